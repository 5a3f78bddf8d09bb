// The edge agent over MQTT/TLS: it verifies the broker against a configured CA made at test time, and
// without that CA it refuses the server (and keeps retrying) rather than connect unverified.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent } from '@flotilla/edge-agent';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { until } from '../delivery/fleet-kit.ts';
import { httpsJson, makeTestCertificate } from '../support/tls-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-tls-'));
let srv: ServerHandle;
let ca: string;

const https = <T = any>(method: string, path: string, body?: unknown) => httpsJson<T>(ca, srv.token, method, `${srv.url}${path}`, body);

beforeAll(async () => {
  const cert = makeTestCertificate(dir);
  ca = cert.ca.toString('utf8');
  srv = await startServerProcess({ args: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--mqtts-port', '0'] });
});
afterAll(async () => {
  await srv?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it('connects over mqtts:// when given the CA, and refuses the server without it', async () => {
  const keys = (await https('GET', '/api/v1/keys')).body;
  const trusted = (keys.keys ?? keys)
    .map((k: { publicKey?: string; publicKeyHex?: string }) => k.publicKey ?? k.publicKeyHex)
    .filter(Boolean);
  const mk = async (id: string) => (await https('POST', '/api/v1/devices', { id })).body as { id: string; token: string };
  const good = await mk('tls-agent-1');
  const bad = await mk('tls-agent-2');
  const logs: string[] = [];
  const a = await createAgent({
    deviceId: good.id,
    token: good.token,
    mqttUrl: srv.info.mqttsUrl!,
    ca,
    dataDir: join(dir, 'a1'),
    trustedKeys: trusted,
  });
  const b = await createAgent({
    deviceId: bad.id,
    token: bad.token,
    mqttUrl: srv.info.mqttsUrl!,
    dataDir: join(dir, 'a2'),
    trustedKeys: trusted,
    log: (l) => logs.push(l),
  });
  try {
    await until(
      () => https('GET', `/api/v1/devices/${good.id}`),
      (r) => r.body.online === true,
      20_000,
      'the agent with the CA online',
    );
    await until(
      async () => logs.join('\n'),
      (l) => /certificate|self[- ]signed/i.test(l),
      20_000,
      'the agent without the CA refusing the server',
    );
    expect((await https('GET', `/api/v1/devices/${bad.id}`)).body.online).toBe(false);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 60_000);
