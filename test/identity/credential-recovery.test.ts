// Automatic recovery of a refused credential [WIRE-3.5] against a real server process and embedded broker:
// enrolled agents go offline, their credentials rotate with a one-second overlap that passes while they are
// away, and on restart one recovers with its device key within seconds (no operator, no claim needed: it
// was revoked meanwhile) while a revoked one is refused. Plus every refusal of POST /recover itself.
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, toHex } from '@flotilla/firmware-bundler';
import { enrollProofMessage, recoverProofMessage } from '@flotilla/firmware-bundler/wire';
import { createAgent, OnnxNodeRuntime, type Agent } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { connectOnce } from './mqtt-connect.ts';

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - t0;
}

let srv: ServerHandle;
let base: string;
const open: Agent[] = [];
beforeAll(async () => {
  srv = await startServerProcess();
  base = mkdtempSync(join(tmpdir(), 'recovery-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((a) => a.close()));
  await srv?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
});

const readToken = async (storage: SimStorage, key: string) =>
  (JSON.parse(new TextDecoder().decode((await storage.read(key))!)) as { token: string }).token;

describe('an agent offline past its overlap window', () => {
  it('recovers with its device key within seconds; a revoked one does not', async () => {
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'recovery', quota: 2, expiresInSec: 600 });
    expect(made.status).toBe(201);
    const runtime = new OnnxNodeRuntime();
    const trusted = toHex(generateKeyPair().publicKey);
    const start = async (id: string, storage: SimStorage, logs: string[]) => {
      const agent = await createAgent({
        deviceId: id,
        claim: made.body.claim,
        server: srv.url,
        mqttUrl: srv.info.mqttUrl,
        storage,
        runtime,
        trustedKeys: [trusted],
        backoff: { minMs: 100, maxMs: 500 },
        log: (l) => logs.push(l),
      });
      open.push(agent);
      return agent;
    };
    const storages = await Promise.all(['R-1', 'R-2'].map((id) => SimStorage.open(join(base, id))));
    const first = await Promise.all(['R-1', 'R-2'].map((id, i) => start(id, storages[i]!, [])));
    await until(() => first.every((a) => a.online), 'both agents online');
    const oldToken = await readToken(storages[0]!, 'identity/device.json');
    await Promise.all(first.map((a) => a.close()));

    // While they are away: every credential rotates, the overlap ends, and R-2 is revoked.
    expect((await srv.api('POST', '/api/v1/devices/rotate', { all: true, overlapSec: 1 })).body.rotated).toBe(2);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await connectOnce(srv.info.mqttUrl, 'R-1', oldToken)).toBe(4);
    expect((await srv.api('POST', '/api/v1/devices/R-2/revoke', { reason: 'stolen' })).status).toBe(200);
    // The claim is revoked too: recovery must not depend on it.
    expect((await srv.api('POST', `/api/v1/enrollments/${made.body.enrollment.id}/revoke`)).status).toBe(200);

    const logs1: string[] = [];
    const logs2: string[] = [];
    const t0 = Date.now();
    const back = await start('R-1', storages[0]!, logs1);
    const revoked = await start('R-2', storages[1]!, logs2);
    await until(() => back.online, 'R-1 back online with a recovered token', 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(logs1.some((l) => l.includes('recovered with the device key'))).toBe(true);
    // The recovered token is stored (a restart uses it), it works, and the old one stays refused.
    const fresh = await readToken(storages[0]!, 'identity/credential.json');
    expect(fresh).not.toBe(oldToken);
    expect(await connectOnce(srv.info.mqttUrl, 'R-1', oldToken)).toBe(4);
    const shown = await srv.api('GET', '/api/v1/devices/R-1');
    expect(shown.body.events.map((e: { kind: string }) => e.kind)).toContain('recovered');

    await until(() => logs2.some((l) => l.includes('recovery refused (HTTP 403)')), 'R-2 refused recovery');
    expect(logs2.join('\n')).toContain('ENROLLMENT_DEVICE_REVOKED');
    expect(revoked.online).toBe(false);
  }, 60_000);
});

describe('POST /recover refusals', () => {
  const post = async (body: unknown) => {
    const res = await fetch(`${srv.url}/api/v1/recover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const proof = (id: string, timestamp: number, key: ReturnType<typeof generateKeyPairSync>['privateKey']) => ({
    v: 1,
    deviceId: id,
    timestamp,
    proof: sign(null, recoverProofMessage(id, timestamp), key).toString('base64'),
  });

  it('accepts only a fresh proof by the key on record, once', async () => {
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'recovery-api', quota: 1, expiresInSec: 600 });
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    const enrollmentId = /^fec_(enr-[0-9a-f]{8})\./.exec(made.body.claim)![1]!;
    const t = Date.now() - 1000;
    const enrolled = await fetch(`${srv.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Claim ${made.body.claim}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        v: 1,
        serial: 'RA-1',
        publicKey: raw,
        timestamp: t,
        proof: sign(null, enrollProofMessage(enrollmentId, 'RA-1', raw, t), privateKey).toString('base64'),
      }),
    });
    expect(enrolled.status).toBe(201);

    const ok = proof('RA-1', Date.now(), privateKey);
    const r = await post(ok);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ v: 1, deviceId: 'RA-1', generation: 2, token: expect.stringMatching(/^fdt_/) });
    expect(await connectOnce(srv.info.mqttUrl, 'RA-1', r.body.token)).toBe('accepted');
    // The same proof again, and an older one: replays.
    expect((await post(ok)).body.error.code).toBe('ENROLLMENT_REPLAYED');
    expect((await post(proof('RA-1', ok.timestamp - 1, privateKey))).status).toBe(409);
    // Another key, an unknown device (same answer: ids are not disclosed), a stale timestamp.
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(await post(proof('RA-1', Date.now(), other))).toMatchObject({
      status: 401,
      body: { error: { code: 'ENROLLMENT_PROOF_INVALID' } },
    });
    expect(await post(proof('NOPE-1', Date.now(), privateKey))).toMatchObject({
      status: 401,
      body: { error: { code: 'ENROLLMENT_PROOF_INVALID' } },
    });
    expect((await post(proof('RA-1', Date.now() - 10 * 60_000, privateKey))).body.error.code).toBe('ENROLLMENT_PROOF_STALE');
    // A device provisioned by hand has no key to prove.
    expect((await srv.api('POST', '/api/v1/devices', { id: 'HAND-1' })).status).toBe(201);
    expect((await post(proof('HAND-1', Date.now(), privateKey))).body.error.code).toBe('ENROLLMENT_NO_DEVICE_KEY');
    // Malformed and oversized bodies.
    expect((await post({ ...proof('RA-1', Date.now(), privateKey), extra: 1 })).status).toBe(400);
    expect((await post('{"v":1')).status).toBe(400);
    expect((await post({ v: 1, deviceId: 'RA-1', timestamp: Date.now(), proof: 'x'.repeat(5000) })).status).toBe(413);
    // None of that changed the credential the good proof gave.
    expect(await connectOnce(srv.info.mqttUrl, 'RA-1', r.body.token)).toBe('accepted');
  }, 30_000);
});
