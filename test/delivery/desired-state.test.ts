// Desired and reported state against a real server process and real MQTT clients: delivery to an
// online device and to one that connects later, reported state stored, presence with stale wills,
// and a restart that keeps devices, tokens, desired states and bundles while devices reconnect.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DesiredState } from '@flotilla/firmware-bundler/wire';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { deviceClient, linearOnnx, nextMessage, provision, registerOnnxModel, reportedState, topic, until } from './fleet-kit.ts';

let srv: ServerHandle;
let bundleId: string;

beforeAll(async () => {
  srv = await startServerProcess();
  await registerOnnxModel(srv, 'digits', linearOnnx(64, 10));
  const b = await srv.api('POST', '/api/v1/bundles', { model: 'digits@1' });
  expect(b.status).toBe(201);
  bundleId = b.body.id;
});
afterAll(async () => {
  await srv?.stop();
  if (srv) rmSync(srv.dataDir, { recursive: true, force: true });
});

const desiredOf = (p: Buffer) => DesiredState.parse(JSON.parse(String(p)));

describe('desired state', () => {
  it('[WIRE-2.2] reaches an online device at once, retained, with a growing revision', async () => {
    const d = await provision(srv, { tags: ['car'] });
    const c = await deviceClient(srv.info.mqttUrl, d);
    await c.subscribeAsync(topic(d.id, 'desired'), { qos: 1 });
    const first = nextMessage(c, topic(d.id, 'desired'));
    const put = await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: bundleId.slice(0, 12) });
    expect(put.status).toBe(200);
    const desired = desiredOf(await first);
    expect(desired).toMatchObject({ v: 1, rev: 1, bundle: { id: bundleId, model: 'digits', version: '1.0.0', sequence: 1 }, shadow: null });
    expect(desired.bundle!.manifestDigest).toMatch(/^[0-9a-f]{64}$/);
    const second = nextMessage(c, topic(d.id, 'desired'));
    await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: null });
    expect(desiredOf(await second)).toMatchObject({ rev: 2, bundle: null });
    await c.endAsync();
  });

  it('reaches a device that connects later (retained), and many devices at once', async () => {
    const ds = await Promise.all([provision(srv), provision(srv), provision(srv)]);
    const r = await srv.api('POST', '/api/v1/devices/desired', { devices: [...ds.map((d) => d.id), 'nobody-here'], bundle: bundleId });
    expect(r.status).toBe(200);
    expect(r.body.updated.sort()).toEqual(ds.map((d) => d.id).sort());
    expect(r.body.skipped).toEqual(['nobody-here']);
    for (const d of ds) {
      const c = await deviceClient(srv.info.mqttUrl, d);
      const got = nextMessage(c, topic(d.id, 'desired'));
      await c.subscribeAsync(topic(d.id, 'desired'), { qos: 1 });
      expect(desiredOf(await got).bundle?.id).toBe(bundleId);
      await c.endAsync();
    }
  });

  it('refuses unknown bundles and malformed bodies with a clear error', async () => {
    const d = await provision(srv);
    expect((await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: 'f'.repeat(64) })).body.error.code).toBe('BUNDLE_NOT_FOUND');
    expect((await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: 42 })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await srv.api('PUT', '/api/v1/devices/nope/desired', { bundle: null })).body.error.code).toBe('DEVICE_NOT_FOUND');
    expect((await srv.api('GET', `/api/v1/devices/${d.id}`)).body.desiredRev).toBe(0);
  });
});

describe('reported state and presence', () => {
  it('[WIRE-2.3] stores the reported state; `devices show` gives its model version', async () => {
    const d = await provision(srv);
    const c = await deviceClient(srv.info.mqttUrl, d);
    await c.publishAsync(topic(d.id, 'reported'), JSON.stringify(reportedState({ name: 'digits', version: '1.0.0', sequence: 1 })), {
      qos: 1,
      retain: true,
    });
    const shown = await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.reported !== null,
    );
    expect(shown.body).toMatchObject({ modelVersion: 'digits@1.0.0', deployState: 'idle', online: true, connected: true });
    expect(shown.body.reported.agentVersion).toBe('0.1.0');
    const listed = await srv.api('GET', '/api/v1/devices?model=digits@1.0.0');
    expect(listed.body.devices.map((x: { id: string }) => x.id)).toContain(d.id);
    // An invalid report is dropped and counted; the stored one stays.
    await c.publishAsync(topic(d.id, 'reported'), '{"v":1,"state":"exploded"}', { qos: 1 });
    const after = await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.counters.invalidMessages === 1,
    );
    expect(after.body.modelVersion).toBe('digits@1.0.0');
    await c.endAsync();
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.online === false,
      5000,
      'offline after disconnect',
    );
  });

  it('[WIRE-2.6] a stale will from an old connection never marks a reconnected device offline', async () => {
    const d = await provision(srv);
    const will = (session: number) => ({
      topic: topic(d.id, 'presence'),
      payload: Buffer.from(JSON.stringify({ v: 1, online: false, session })),
      qos: 1 as const,
      retain: true,
    });
    const old = await deviceClient(srv.info.mqttUrl, d, { will: will(1) });
    await old.publishAsync(topic(d.id, 'presence'), JSON.stringify({ v: 1, online: true, session: 1 }), { qos: 1, retain: true });
    // The same device connects again (a new session) while the old connection is still open: the
    // broker closes the old one, whose will (session 1) is published after the takeover.
    const fresh = await deviceClient(srv.info.mqttUrl, d, { will: will(2) });
    await fresh.publishAsync(topic(d.id, 'presence'), JSON.stringify({ v: 1, online: true, session: 2 }), { qos: 1, retain: true });
    // A will from session 1 arriving late (as a retained replay would) is ignored too.
    await fresh.publishAsync(topic(d.id, 'presence'), JSON.stringify({ v: 1, online: false, session: 1 }), { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 500));
    const shown = (await srv.api('GET', `/api/v1/devices/${d.id}`)).body;
    expect(shown).toMatchObject({ online: true, session: 2, connected: true });
    fresh.stream.destroy();
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.online === false && r.body.session === 2,
      5000,
      'offline by the session-2 will',
    );
    old.end(true);
  });
});

describe('restart', () => {
  it('keeps devices, tokens, desired states and bundles; devices reconnect by themselves and get their desired state again', async () => {
    const d = await provision(srv, { tags: ['restart'] });
    await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: bundleId });
    const mqttPort = new URL(srv.info.mqttUrl).port;
    const c = await deviceClient(srv.info.mqttUrl, d, { reconnectPeriod: 300 });
    const retained = nextMessage(c, topic(d.id, 'desired'));
    await c.subscribeAsync(topic(d.id, 'desired'), { qos: 1 });
    await retained;
    let messages = 0;
    c.on('message', () => messages++);
    c.on('connect', () => void c.subscribe(topic(d.id, 'desired'), { qos: 1 }));
    const t0 = Date.now();
    expect(await srv.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Same data folder, same MQTT port so the device's configured URL still works.
    srv = await startServerProcess({ dataDir: srv.dataDir, token: srv.token, args: ['--mqtt-port', mqttPort] });
    await until(
      () => messages,
      (n) => n >= 1,
      20_000,
      're-published desired state after reconnect',
    );
    const shown = (await srv.api('GET', `/api/v1/devices/${d.id}`)).body;
    expect(shown).toMatchObject({ tags: ['restart'], desiredRev: 1, connected: true });
    expect(shown.desired.bundle.id).toBe(bundleId);
    expect((await srv.api('GET', `/api/v1/bundles/${bundleId}`)).status).toBe(200);
    expect((await srv.api('GET', '/api/v1/keys')).body.keys).toHaveLength(1);
    // The signing key made on first start is private to the server's user, and survived the restart.
    expect(statSync(join(srv.dataDir, 'keys', 'signing.key')).mode & 0o777).toBe(0o600);
    await c.endAsync();
  });
});
