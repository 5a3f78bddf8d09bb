// The agent's local predict server against what a browser page on the device can do: post feedback
// cross-origin, read status through DNS rebinding, block it with one giant batch. Local apps still work.
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPredictServer } from '@flotilla/edge-agent/cli/predict-server';
import { loadOrCreateServeToken } from '@flotilla/edge-agent/cli/local-token';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle } from './harness/test-bundles.ts';
import { sampleRow } from './harness/test-models.ts';
import { newDeviceId, startTestAgent, type TestAgent } from './harness/agents.ts';
import { waitUntil } from './harness/wait.ts';

let h: HarnessServer;
let t: TestAgent;
let base: URL;
let token: string;
let close: () => Promise<void>;
let deviceId: string;
let v1Ref: Awaited<ReturnType<typeof makeBundle>>['ref'];

beforeAll(async () => {
  h = await HarnessServer.start();
  const v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
  h.addBlobs(v1.blobs);
  const id = newDeviceId('local');
  deviceId = id;
  v1Ref = v1.ref;
  h.addDevice(id);
  await h.setDesired(id, v1.ref);
  t = await startTestAgent(h, id);
  await waitUntil(() => t.agent.model?.version === '1.0.0' && t.agent.state === 'idle', 'v1 installed');
  token = await loadOrCreateServeToken(t.dataDir);
  const s = await startPredictServer(t.agent, { port: 0, token, maxRows: 100, maxBodyBytes: 64 * 1024 });
  base = new URL(s.url);
  close = () => new Promise((r) => s.server.close(() => r()));
});
afterAll(async () => {
  await close?.();
  await t?.agent.close();
  await h?.close();
});

/** One raw HTTP request, with whatever Host and Origin headers an attacker's page would make the browser send. */
function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: any }> {
  const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: { ...(data ? { 'content-length': String(data.length) } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const auth = () => ({ authorization: `Bearer ${token}` });

describe('local predict server', () => {
  it('keeps its token in the data folder, readable by the agent user only, the same across restarts', async () => {
    const file = join(t.dataDir, 'serve-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(await loadOrCreateServeToken(t.dataDir)).toBe(token);
  });

  it('refuses feedback from a web page (Origin) and without the token; the label is not counted and the prediction stays open', async () => {
    const p = await call('POST', '/v1/predict', {}, { input: sampleRow(16) });
    expect(p.status).toBe(200);
    const label = { predictionId: p.body.predictionId, label: 'dog' };
    // A page on evil.example posting text/plain (no preflight) with the token it cannot know, and with it.
    expect(await call('POST', '/v1/feedback', { origin: 'http://evil.example', 'content-type': 'text/plain' }, label)).toMatchObject({
      status: 403,
      body: { error: { code: 'ORIGIN_NOT_ALLOWED' } },
    });
    expect(await call('POST', '/v1/feedback', { origin: 'http://evil.example', ...auth() }, label)).toMatchObject({ status: 403 });
    expect(await call('POST', '/v1/feedback', { 'sec-fetch-site': 'cross-site', ...auth() }, label)).toMatchObject({ status: 403 });
    expect(await call('POST', '/v1/feedback', {}, label)).toMatchObject({
      status: 401,
      body: { error: { code: 'TOKEN_REQUIRED', message: expect.stringContaining('serve-token') } },
    });
    expect(await call('POST', '/v1/feedback', { authorization: `Bearer ${'0'.repeat(64)}` }, label)).toMatchObject({ status: 401 });
    // None of those consumed it: the local app's labelled feedback is the one that counts.
    expect(await call('POST', '/v1/feedback', auth(), label)).toEqual({ status: 200, body: { matched: true } });
  });

  it('labels that come in over HTTP reach the server as source local-api [WIRE-2.12.1]', async () => {
    await h.setDesired(deviceId, v1Ref, { windowSec: 3600, sampleRate: 1, sampleBudgetBytes: 1_000_000 });
    const d = h.devices.get(deviceId)!;
    const labelled = () => [...d.samples.values()].flatMap((b) => b.items).filter((i) => i.label !== null);
    // Predict and label over HTTP until the agent has taken up the sampling policy and a labelled sample arrives.
    const sent = await waitUntil(
      async () => {
        const p = await call('POST', '/v1/predict', {}, { input: sampleRow(16, 7) });
        expect(await call('POST', '/v1/feedback', auth(), { predictionId: p.body.predictionId, label: 1 })).toEqual({
          status: 200,
          body: { matched: true },
        });
        await t.agent.flushTelemetry();
        return labelled()[0];
      },
      'a labelled sample',
      20_000,
      200,
    );
    expect(sent).toMatchObject({ label: 1, source: 'local-api' });
  });

  it('refuses a foreign Host (DNS rebinding) on every endpoint, and answers the loopback names', async () => {
    const rebound = { host: `attacker.example:${base.port}` };
    expect(await call('GET', '/v1/status', rebound)).toMatchObject({ status: 403, body: { error: { code: 'HOST_NOT_ALLOWED' } } });
    expect(await call('POST', '/v1/predict', rebound, { input: sampleRow(16) })).toMatchObject({ status: 403 });
    expect(await call('GET', '/v1/status', { host: '127.0.0.1' })).toMatchObject({ status: 403 });
    for (const host of [`127.0.0.1:${base.port}`, `localhost:${base.port}`]) {
      expect(await call('GET', '/v1/status', { host })).toMatchObject({
        status: 200,
        body: { model: { version: '1.0.0' }, state: 'idle' },
      });
    }
  });

  it('caps rows per batch and the body size with clear errors, and keeps serving', async () => {
    const rows = Array.from({ length: 101 }, () => [0]);
    expect(await call('POST', '/v1/predict', {}, { inputs: rows })).toMatchObject({
      status: 413,
      body: { error: { code: 'TOO_MANY_ROWS', message: 'a batch holds at most 100 rows, got 101' } },
    });
    const big = { inputs: Array.from({ length: 50 }, () => Array.from({ length: 200 }, () => 0.123456789)) };
    expect(await call('POST', '/v1/predict', {}, big)).toMatchObject({
      status: 413,
      body: { error: { code: 'BODY_TOO_LARGE', message: 'request body exceeds 65536 bytes' } },
    });
    const ok = await call('POST', '/v1/predict', {}, { inputs: Array.from({ length: 100 }, (_, i) => sampleRow(16, i)) });
    expect(ok.status).toBe(200);
    expect(ok.body.predictions).toHaveLength(100);
  });
});
