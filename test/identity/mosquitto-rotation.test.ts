// Rotation and revocation on an external Mosquitto 2 with dynamic security: five real agents enroll by
// claim through the server, get their credentials rotated (the broker takes the new passwords, the
// agents reconnect with them, the old ones are refused), and one is revoked (dropped and refused within
// a second). The same flow as fleet-identity.test.ts, on the other BrokerLink.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOnce as tryConnect } from './mqtt-connect.ts';
import { generateKeyPair, toHex } from '@flotilla/firmware-bundler';
import { createAgent, OnnxNodeRuntime, type Agent } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import type { MosquittoBroker } from '../support/mosquitto.ts';
import type { ServerHandle } from '../support/server-process.ts';
import { mosquitto } from '../broker/broker-backends.ts';

const skip = mosquitto.missing();

async function until(check: () => boolean, what: string, timeoutMs = 30_000, detail = () => ''): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - t0;
}

describe.skipIf(skip)('rotation and revocation on Mosquitto + dynamic security', () => {
  let srv: ServerHandle & { broker: MosquittoBroker | null };
  let base: string;
  const agents: { id: string; agent: Agent; storage: SimStorage; logs: string[] }[] = [];
  beforeAll(async () => {
    srv = await mosquitto.start();
    base = mkdtempSync(join(tmpdir(), 'mosq-rotation-'));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.agent.close()));
    await srv?.dispose();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('enrolls, rotates every credential (old ones refused), and revokes one at once', async () => {
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'mosq', quota: 5, expiresInSec: 600, tags: ['m'] });
    expect(made.status).toBe(201);
    const runtime = new OnnxNodeRuntime();
    const trusted = toHex(generateKeyPair().publicKey);
    for (let i = 0; i < 5; i++) {
      const id = `M-${i}`;
      const storage = await SimStorage.open(join(base, id));
      const logs: string[] = [];
      const agent = await createAgent({
        deviceId: id,
        claim: made.body.claim,
        server: srv.url,
        mqttUrl: srv.info.mqttUrl,
        storage,
        runtime,
        trustedKeys: [trusted],
        telemetry: { windowSec: 2 },
        backoff: { minMs: 100, maxMs: 1000 },
        log: (l) => logs.push(l),
      });
      agents.push({ id, agent, storage, logs });
    }
    await until(() => agents.every((a) => a.agent.online), 'every agent connected to Mosquitto');
    const oldTokens = await Promise.all(
      agents.map(
        async (a) => (JSON.parse(new TextDecoder().decode((await a.storage.read('identity/device.json'))!)) as { token: string }).token,
      ),
    );

    const r = await srv.api('POST', '/api/v1/devices/rotate', { all: true, overlapSec: 600 });
    expect(r.body.rotated).toBe(5);
    await until(
      () => agents.every((a) => a.logs.some((l) => l.includes('rotated to generation 2')) && a.agent.online),
      'every agent back with its new token',
      30_000,
      () => agents.map((a) => `\n${a.id} online=${a.agent.online}:\n  ${a.logs.slice(-12).join('\n  ')}`).join(''),
    );
    // The agents reconnect before the broker has their new password and are refused for a moment: they
    // retry with it instead of recovering (which would mint a third token and a broker write per device).
    for (const a of agents) expect(a.logs.filter((l) => l.includes('recovered with the device key'))).toEqual([]);
    // Mosquitto holds one password per client: every old token is refused (return code 5, not authorised).
    for (const [i, a] of agents.entries()) expect(await tryConnect(srv.info.mqttUrl, a.id, oldTokens[i]!)).toBe(5);
    await until(() => agents.every((a) => a.agent.online), 'the fleet online after the refused attempts');
    await Promise.all(agents.map((a) => a.agent.flushTelemetry()));
    await until(() => agents.every((a) => a.agent.telemetryBacklog === 0), 'telemetry acknowledged through Mosquitto');

    const victim = agents[2]!;
    const current = (JSON.parse(new TextDecoder().decode((await victim.storage.read('identity/credential.json'))!)) as { token: string })
      .token;
    expect((await srv.api('POST', `/api/v1/devices/${victim.id}/revoke`, { reason: 'stolen' })).status).toBe(200);
    expect(await until(() => !victim.agent.online, 'the revoked agent dropped', 5000)).toBeLessThan(1000);
    expect(await tryConnect(srv.info.mqttUrl, victim.id, current)).toBe(5);
  }, 120_000);
});
