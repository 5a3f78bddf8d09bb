// What only an external broker has to get right: the server keeps Mosquitto's dynamic-security
// clients in step with the registry (provision, revoke, regroup, reconcile on start, 10,000 devices)
// and learns connections from the broker's log topic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MosquittoDynsecLink } from '../../server/src/broker/mosquitto-dynsec-link.ts';
import { createLogger } from '../../server/src/log/logger.ts';
import { decodeChunkResponse, DesiredState } from '@flotilla/firmware-bundler/wire';
import { deviceClient, linearOnnx, nextMessage, provision, registerOnnxModel, reportedState, topic, until } from '../delivery/fleet-kit.ts';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { mosquitto } from './broker-backends.ts';

const skip = mosquitto.missing();
const broadcast = (g: string) => `flotilla/v1/groups/${g}/broadcast`;
/** The granted QoS, or 128 when refused (mqtt.js rejects a refused SUBACK). */
async function granted(c: Awaited<ReturnType<typeof deviceClient>>, filter: string): Promise<number> {
  try {
    return (await c.subscribeAsync(filter, { qos: 1 }))[0]!.qos;
  } catch (err) {
    if ((err as { packet?: { granted?: number[] } }).packet?.granted?.[0] === 128) return 128;
    throw err;
  }
}

describe.skipIf(skip)('server on an external Mosquitto with dynamic security', () => {
  let srv: ServerHandle & { broker: MosquittoBroker | null };
  beforeAll(async () => {
    srv = await mosquitto.start();
  });
  afterAll(async () => srv?.dispose());

  it('tells devices the broker, sees them connect and leave, and keeps their credentials across a server restart', async () => {
    expect(srv.info.mqttUrl).toBe(srv.broker!.url);
    const d = await provision(srv, { id: 'dev-live' });
    const c = await deviceClient(srv.info.mqttUrl, d);
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.connected === true && r.body.online === true,
      10_000,
      'connected',
    );
    await c.endAsync();
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.connected === false && r.body.online === false,
      10_000,
      'disconnected',
    );

    await srv.stop();
    const again = await startServerProcess({ dataDir: srv.dataDir, token: srv.token, env: { FLOTILLA_MQTT_URL: srv.broker!.adminUrl } });
    try {
      expect(again.logs()).toMatch(/mosquitto clients reconciled.*"missing":0/);
      const c2 = await deviceClient(again.info.mqttUrl, d);
      expect(await granted(c2, topic(d.id, 'desired'))).toBe(1);
      await c2.endAsync();
    } finally {
      await again.stop();
      // The next tests get a fresh server on a fresh broker.
      await srv.dispose();
      srv = await mosquitto.start();
    }
  });

  it('delivers through the broker: retained desired state, a chunk answered to the asking device, reported state stored', async () => {
    await registerOnnxModel(srv, 'ext', linearOnnx(8, 2));
    const bundle = (await srv.api('POST', '/api/v1/bundles', { model: 'ext' })).body;
    const d = await provision(srv, { id: 'dev-delivery' });
    expect((await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: bundle.id })).status).toBe(200);
    const c = await deviceClient(srv.info.mqttUrl, d);
    const desiredMsg = nextMessage(c, topic(d.id, 'desired'));
    await c.subscribeAsync([topic(d.id, 'desired'), topic(d.id, 'chunks/res')], { qos: 1 });
    const desired = DesiredState.parse(JSON.parse(String(await desiredMsg)));
    expect(desired.bundle?.id).toBe(bundle.id);
    const res = nextMessage(c, topic(d.id, 'chunks/res'));
    await c.publishAsync(topic(d.id, 'chunks/req'), JSON.stringify({ v: 1, cid: 'c1', digest: desired.bundle!.manifestDigest }), {
      qos: 1,
    });
    const answer = decodeChunkResponse(await res)!;
    expect(answer.header).toMatchObject({ cid: 'c1', ok: true });
    await c.publishAsync(topic(d.id, 'reported'), JSON.stringify(reportedState({ name: 'ext', version: '1.0.0', sequence: 1 })), {
      qos: 1,
    });
    const shown = await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.reported !== null,
    );
    expect(shown.body.modelVersion).toBe('ext@1.0.0');
    await c.endAsync();
  });

  it('revocation drops the connection at once and the token never connects again', async () => {
    const d = await provision(srv, { id: 'dev-revoked' });
    const c = await deviceClient(srv.info.mqttUrl, d);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await srv.api('POST', `/api/v1/devices/${d.id}/revoke`, { reason: 'stolen' })).status).toBe(200);
    await closed;
    await expect(deviceClient(srv.info.mqttUrl, d)).rejects.toThrow(/not authori[sz]ed/i);
    c.end(true);
  });

  it('a group change takes effect on the broker: a new group is readable, a removed one is not', async () => {
    const d = await provision(srv, { id: 'dev-groups', groups: ['blue'] });
    let c = await deviceClient(srv.info.mqttUrl, d);
    expect(await granted(c, broadcast('blue'))).toBe(1);
    expect(await granted(c, broadcast('green'))).toBe(128);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await srv.api('PATCH', `/api/v1/devices/${d.id}`, { addGroups: ['green'], removeGroups: ['blue'] })).status).toBe(200);
    // Mosquitto reconnects a client whose groups changed, so it cannot keep a subscription it lost.
    await closed;
    c.end(true);
    c = await deviceClient(srv.info.mqttUrl, d);
    expect(await granted(c, broadcast('green'))).toBe(1);
    expect(await granted(c, broadcast('blue'))).toBe(128);
    await c.endAsync();
  });
});

describe.skipIf(skip)('reconciling 10,000 devices on start', () => {
  const all = Array.from({ length: 10_000 }, (_, i) => ({
    deviceId: `d-${String(i).padStart(5, '0')}`,
    token: `fdt_${i}`,
    groups: [`g${i % 10}`],
  }));
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ devices: all });
  }, 60_000);
  afterAll(async () => broker?.stop());

  it('removes clients of gone devices, fixes groups, reports devices without a credential, in seconds', async () => {
    // The registry: 9,990 of the broker's devices (10 were deleted), 3 the broker never saw, 5 moved to another group.
    const registry = [
      ...all.slice(0, 9_990).map((d, i) => ({ id: d.deviceId, groups: i < 5 ? ['moved'] : d.groups })),
      ...['x-1', 'x-2', 'x-3'].map((id) => ({ id, groups: [] })),
    ];
    const pages: number[] = [];
    const link = new MosquittoDynsecLink({
      url: broker.url,
      username: broker.adminUser,
      password: broker.adminPassword,
      log: createLogger('silent'),
      registry: async (after, limit) => {
        const from = after === null ? 0 : registry.findIndex((d) => d.id === after) + 1;
        pages.push(from);
        const devices = registry.slice(from, from + limit);
        return { devices, next: from + limit < registry.length ? devices[devices.length - 1]!.id : null };
      },
    });
    const t0 = Date.now();
    await link.start();
    const ms = Date.now() - t0;
    try {
      expect(link.lastReconcile).toEqual({ devices: 9_993, missing: ['x-1', 'x-2', 'x-3'], removed: 10, regrouped: 5, upgraded: 0 });
      expect(pages.length).toBe(10);
      // 20 changed objects, each a rewrite of the plugin's 10,000-device file: well under a minute here.
      expect(ms).toBeLessThan(45_000);
      const moved = await deviceClient(broker.url, { id: all[0]!.deviceId, token: all[0]!.token });
      expect(await granted(moved, broadcast('moved'))).toBe(1);
      expect(await granted(moved, broadcast('g0'))).toBe(128);
      await moved.endAsync();
      await expect(deviceClient(broker.url, { id: all[9_999]!.deviceId, token: all[9_999]!.token })).rejects.toThrow(/not authori[sz]ed/i);
    } finally {
      await link.close();
    }
  }, 90_000);
});

describe.skipIf(skip)('password writes that overtake each other', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto({ devices: [{ deviceId: 'd-race', token: 'fdt_g1', groups: [] }] });
  }, 60_000);
  afterAll(async () => broker?.stop());

  it("a rotation's write that arrives after the device's recovery does not put the older token back", async () => {
    const link = new MosquittoDynsecLink({
      url: broker.url,
      username: broker.adminUser,
      password: broker.adminPassword,
      log: createLogger('silent'),
      registry: async () => ({ devices: [{ id: 'd-race', groups: [] }], next: null }),
    });
    await link.start();
    try {
      // Generation 3 (a recovery) goes out first; generation 2 (the rotation it overtook) after it.
      await Promise.all([
        link.credentials!.rotated([{ deviceId: 'd-race', token: 'fdt_g3', generation: 3 }]),
        link.credentials!.rotated([{ deviceId: 'd-race', token: 'fdt_g2', generation: 2 }]),
      ]);
      const c = await deviceClient(broker.url, { id: 'd-race', token: 'fdt_g3' });
      await c.endAsync();
      await expect(deviceClient(broker.url, { id: 'd-race', token: 'fdt_g2' })).rejects.toThrow(/not authori[sz]ed/i);
      // A later generation is written as usual.
      await link.credentials!.rotated([{ deviceId: 'd-race', token: 'fdt_g4', generation: 4 }]);
      await (await deviceClient(broker.url, { id: 'd-race', token: 'fdt_g4' })).endAsync();
    } finally {
      await link.close();
    }
  }, 60_000);
});
