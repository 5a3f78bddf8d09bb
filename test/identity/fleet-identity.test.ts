// Fleet identity end to end on a real server process and its embedded broker: 1,000 real agents enroll
// themselves from one claim with a template, send telemetry, get every credential rotated under them
// (no window lost, each reconnects with its new token, every old token is then refused), and one is
// revoked (disconnected and refused within a second).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOnce } from './mqtt-connect.ts';
import { generateKeyPair, toHex } from '@flotilla/firmware-bundler';
import { createAgent, OnnxNodeRuntime, type Agent } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

const N = Number(process.env.FLEET_IDENTITY_N ?? 1000);
const serial = (i: number) => `CAR-${String(i).padStart(5, '0')}`;

interface Device {
  id: string;
  agent: Agent;
  storage: SimStorage;
  logs: string[];
  dropped: number;
  windows: number;
}

let srv: ServerHandle;
let base: string;
const devices: Device[] = [];
const runtime = new OnnxNodeRuntime();
const trusted = toHex(generateKeyPair().publicKey);

/** Runs `f` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, f: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i]!, i);
      }
    }),
  );
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 180_000): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) {
      const rotated = devices.filter((d) => d.logs.some((l) => l.includes('rotated to generation 2'))).length;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (online ${devices.filter((d) => d.agent.online).length}, rotated ${rotated} of ${devices.length})`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

/** CONNECT with `token` as `id`: 'accepted' or the CONNACK's refusal code (a transport error is tried again). */
async function tryConnect(url: string, id: string, token: string): Promise<'accepted' | number> {
  for (let attempt = 0; ; attempt++) {
    const r = await connectOnce(url, id, token);
    if (r === 'accepted' || r > 0 || attempt === 4) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

let claim: string;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'fleet-identity-'));
  srv = await startServerProcess();
  const made = await srv.api('POST', '/api/v1/enrollments', {
    name: 'factory-a',
    quota: N,
    expiresInSec: 3600,
    tags: ['cars'],
    groups: ['fleet-a'],
    attributes: { cohort: 'cars' },
    serialPattern: 'CAR-*',
  });
  expect(made.status).toBe(201);
  claim = made.body.claim;
}, 120_000);

afterAll(async () => {
  if (srv && srv.proc.exitCode !== null) console.log(`server exited ${srv.proc.exitCode}:\n${srv.logs().slice(-3000)}`);
  await pool(devices, 50, (d) => d.agent.close());
  await srv?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
}, 300_000);

describe(`identity for ${N} devices`, () => {
  it('enrolls every device from one claim, with the template applied, up to the quota', async () => {
    const t0 = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      40,
      async (i) => {
        const storage = await SimStorage.open(join(base, serial(i)));
        const d: Device = { id: serial(i), storage, logs: [], dropped: 0, windows: 0, agent: null as unknown as Agent };
        d.agent = await createAgent({
          deviceId: serial(i),
          claim,
          server: srv.url,
          mqttUrl: srv.info.mqttUrl,
          storage,
          runtime,
          trustedKeys: [trusted],
          telemetry: { windowSec: 10 },
          backoff: { minMs: 100, maxMs: 1000 },
          log: (l) => d.logs.push(l),
        });
        d.agent.on('telemetry', (w) => {
          d.windows++;
          d.dropped += w.dropped;
        });
        devices.push(d);
        if (devices.length % 100 === 0) console.log(`${devices.length} agents enrolled and started, ${Date.now() - t0} ms`);
      },
    );
    const enrollMs = Date.now() - t0;
    const e = await srv.api('GET', '/api/v1/enrollments/factory-a');
    expect(e.body).toMatchObject({ quota: N, used: N, revokedAt: null });
    const tagged = await srv.api('GET', '/api/v1/devices?tag=cars&group=fleet-a&limit=1');
    expect(tagged.body.total).toBe(N);
    expect(tagged.body.devices[0]).toMatchObject({ id: serial(0), attributes: { cohort: 'cars' } });
    // The quota is spent: one more serial is refused, whatever its proof.
    const extra = await SimStorage.open(join(base, 'extra'));
    await expect(
      createAgent({
        deviceId: 'CAR-99999',
        claim,
        server: srv.url,
        mqttUrl: srv.info.mqttUrl,
        storage: extra,
        runtime,
        trustedKeys: [trusted],
      }),
    ).rejects.toThrow(/ENROLLMENT_QUOTA_EXHAUSTED/);
    await until(() => devices.every((d) => d.agent.online), 'every device online');
    console.log(`enrolled and started ${N} agents in ${enrollMs} ms`);
  }, 600_000);

  it('rotates every credential while telemetry flows: no window lost, all reconnect with the new token, old tokens refused', async () => {
    await until(() => devices.every((d) => d.windows >= 1), 'a first telemetry window from every device');
    const oldTokens = new Map<string, string>();
    for (const d of devices) {
      const identity = JSON.parse(new TextDecoder().decode((await d.storage.read('identity/device.json'))!)) as {
        token: string;
        generation: number;
      };
      expect(identity.generation).toBe(1);
      oldTokens.set(d.id, identity.token);
    }
    const t0 = Date.now();
    const r = await srv.api('POST', '/api/v1/devices/rotate', { all: true, overlapSec: 600 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ rotated: N, notified: N });
    const rotateMs = Date.now() - t0;
    const reconnectMs = await until(
      () => devices.every((d) => d.logs.some((l) => l.includes('rotated to generation 2')) && d.agent.online),
      'every device reconnected with its new token',
    );
    console.log(`rotated ${N} credentials in ${rotateMs} ms; all reconnected ${reconnectMs} ms later`);
    // Each device's first connect with its new token ended its overlap: the old token is refused now.
    const answers = new Map<string, 'accepted' | number>();
    await pool(devices, 50, async (d) => void answers.set(d.id, await tryConnect(srv.info.mqttUrl, d.id, oldTokens.get(d.id)!)));
    expect([...answers.values()].filter((a) => a !== 4)).toEqual([]);
    // The refused attempts disturbed no one, and telemetry kept flowing: every window is acknowledged.
    const windowsAtRotation = devices.map((d) => d.windows);
    await until(() => devices.every((d, i) => d.windows >= windowsAtRotation[i]! + 1), 'a window after the rotation from every device');
    await pool(devices, 100, (d) => d.agent.flushTelemetry());
    await until(() => devices.every((d) => d.agent.telemetryBacklog === 0), 'every window acknowledged');
    expect(devices.reduce((n, d) => n + d.dropped, 0)).toBe(0);
    expect(devices.every((d) => d.agent.online)).toBe(true);
  }, 600_000);

  it('revokes one device: disconnected and refused within a second', async () => {
    const victim = devices[7]!;
    const token = await readToken(victim);
    const t0 = Date.now();
    const r = await srv.api('POST', `/api/v1/devices/${victim.id}/revoke`, { reason: 'stolen' });
    expect(r.status).toBe(200);
    const offlineMs = await until(() => !victim.agent.online, 'the revoked device disconnected', 5000);
    expect(offlineMs).toBeLessThan(1000);
    expect(await tryConnect(srv.info.mqttUrl, victim.id, token)).toBe(4);
    expect(Date.now() - t0).toBeLessThan(2000);
    // Everyone else stays.
    await until(() => devices.every((d) => d === victim || d.agent.online), 'the rest of the fleet online', 60_000);
  }, 120_000);
});

/** The token a device uses now: the rotated one when it has one, else its enrolled one. */
async function readToken(d: Device): Promise<string> {
  const bytes = (await d.storage.read('identity/credential.json')) ?? (await d.storage.read('identity/device.json'));
  return (JSON.parse(new TextDecoder().decode(bytes!)) as { token: string }).token;
}
