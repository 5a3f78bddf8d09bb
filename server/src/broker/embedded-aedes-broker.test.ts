// The embedded broker in-process with real sockets on loopback: authentication, authorization,
// bounds on packets, rates and unacknowledged messages, and the server's own publish/subscribe.
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { createLogger } from '../log/logger.ts';
import { ConnectRefused, RawMqttClient } from './raw-mqtt.ts';
import type { DeviceAuthority, InboundMessage } from './broker-link.ts';
import { EmbeddedAedesBroker } from './embedded-aedes-broker.ts';
import { hashMatches } from './secret-hash.ts';

const P = 'flotilla/v1';
const tokens: Record<string, string> = { 'dev-a': 'secret-a', 'dev-b': 'secret-b', 'dev-slow': 'secret-s', 'dev-fast': 'secret-f' };
const authority: DeviceAuthority = {
  async authenticate(id, secret) {
    return tokens[id] === secret ? { deviceId: id, groups: ['eu'] } : null;
  },
};

let broker: EmbeddedAedesBroker;
let port: number;
const inbox: InboundMessage[] = [];
/** The rate buckets' clock, held still by the rate test: its counts must not depend on how loaded the machine is. */
let heldAt: number | null = null;

beforeAll(async () => {
  broker = new EmbeddedAedesBroker({
    authority,
    log: createLogger('silent'),
    mqttPort: 0,
    clock: () => heldAt ?? performance.now(),
    limits: { devicePublishRate: 20, devicePublishBurst: 10, maxInflightPerClient: 4, partialPacketTimeoutMs: 500, connectTimeoutMs: 2000 },
  });
  const ep = await broker.start();
  port = Number(new URL(ep.mqttUrl).port);
  await broker.subscribe(`${P}/devices/+/telemetry`, (m) => inbox.push(m));
});
afterAll(async () => broker?.close());

const dev = (id: string, extra: Partial<Parameters<typeof RawMqttClient.connect>[0]> = {}) =>
  RawMqttClient.connect({ port, clientId: id, username: id, password: tokens[id], ...extra });
const until = async (cond: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const closed = (c: RawMqttClient) => new Promise<void>((r) => (c.closed ? r() : c.once('close', () => r())));

describe('EmbeddedAedesBroker', () => {
  it('refuses connections without a valid credential, with the MQTT return code', async () => {
    await expect(RawMqttClient.connect({ port, clientId: 'dev-a' })).rejects.toMatchObject({ returnCode: 4 });
    await expect(dev('dev-a', { password: 'wrong' })).rejects.toBeInstanceOf(ConnectRefused);
    await expect(dev('dev-a', { clientId: 'dev-b' })).rejects.toMatchObject({ returnCode: 2 });
    await expect(dev('dev-a', { clean: false })).rejects.toMatchObject({ returnCode: 2 });
    await expect(RawMqttClient.connect({ port, clientId: 'x/y', username: 'x/y', password: 'p' })).rejects.toMatchObject({ returnCode: 4 });
    expect(broker.stats().connectRefused).toBeGreaterThanOrEqual(5);
  });

  it('routes a device publish to the server, and server publishes (retained) to the device', async () => {
    const a = await dev('dev-a', { clientId: '' });
    await a.publish(`${P}/devices/dev-a/telemetry`, '{"v":1}');
    await until(() => inbox.some((m) => m.clientId === 'dev-a'));
    await broker.publish({ topic: `${P}/devices/dev-a/desired`, payload: 'd1', retain: true });
    const got = new Promise<string>((r) => a.once('message', (p) => r(String(p.payload))));
    expect(await a.subscribe([`${P}/devices/dev-a/desired`])).toEqual([1]);
    expect(await got).toBe('d1');
    expect(broker.isConnected('dev-a')).toBe(true);
    a.end();
    await closed(a);
    await until(() => !broker.isConnected('dev-a'));
  });

  it("refuses subscriptions beyond the device's own topics and counts them", async () => {
    const a = await dev('dev-a');
    const before = broker.counters.of('dev-a').subscribeRefused;
    expect(
      await a.subscribe([
        `${P}/devices/dev-b/desired`,
        `${P}/devices/+/desired`,
        '#',
        `${P}/groups/eu/broadcast`,
        `${P}/groups/us/broadcast`,
      ]),
    ).toEqual([128, 128, 128, 1, 128]);
    expect(broker.counters.of('dev-a').subscribeRefused - before).toBe(4);
    a.end();
  });

  it("closes a device that publishes into another device's subtree, and counts it", async () => {
    const a = await dev('dev-a');
    void a.publish(`${P}/devices/dev-b/telemetry`, '{}');
    await closed(a);
    expect(broker.counters.of('dev-a').publishRefused).toBeGreaterThanOrEqual(1);
    expect(inbox.some((m) => m.topic.includes('dev-b'))).toBe(false);
  });

  it('drops a connection that declares a 256 MB packet before buffering it, even before CONNECT', async () => {
    const before = broker.stats().framesRefused;
    const s = connect({ port, host: '127.0.0.1' });
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await new Promise((r) => s.once('close', r));
    expect(broker.stats().framesRefused).toBe(before + 1);
  });

  it('drops a client that trickles a packet slower than the partial-packet timeout', async () => {
    const a = await dev('dev-b');
    a.socket.write(Buffer.from([0x30, 0x40, 0x00]));
    const t0 = Date.now();
    await closed(a);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('pushes back on a device over its publish rate, then sheds, and counts both', async () => {
    const f = await dev('dev-fast');
    const start = inbox.length;
    const t0 = Date.now();
    heldAt = performance.now();
    await Promise.all(Array.from({ length: 25 }, (_, i) => f.publish(`${P}/devices/dev-fast/telemetry`, `{"i":${i}}`))).finally(
      () => (heldAt = null),
    );
    // 10 burst + 10 borrowed (delayed up to 0.5 s at 20/s); the rest are acknowledged but shed.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    const c = broker.counters.of('dev-fast');
    expect(c.rateDelayed).toBe(10);
    expect(c.rateShed).toBe(5);
    await until(() => inbox.length - start >= 20);
    expect(inbox.length - start).toBe(20);
    f.end();
  });

  it('sends a device that never acknowledges at most maxInflightPerClient QoS 1 messages', async () => {
    const s = await dev('dev-slow', { autoAck: false });
    await s.subscribe([`${P}/devices/dev-slow/chunks/res`]);
    let got = 0;
    s.on('message', () => got++);
    for (let i = 0; i < 20; i++) await broker.publish({ topic: `${P}/devices/dev-slow/chunks/res`, payload: `m${i}` });
    await until(() => got >= 4);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(4);
    expect(broker.counters.of('dev-slow').outboundShed).toBe(16);
    s.end();
  });

  it('works for an mqtt.js client over the same port (MQTT 3.1.1)', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-b',
      username: 'dev-b',
      password: 'secret-b',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await c.publishAsync(`${P}/devices/dev-b/telemetry`, 'x', { qos: 1 });
    await until(() => inbox.some((m) => m.clientId === 'dev-b'));
    await c.endAsync();
  });

  it('accepts MQTT over WebSocket at /mqtt on an HTTP server, and nothing at other upgrade paths', async () => {
    const http = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    const ws = new EmbeddedAedesBroker({ authority, log: createLogger('silent'), mqttPort: 0 });
    ws.attachHttp(http, url);
    const ep = await ws.start();
    expect(ep.wsUrl).toBe(`${url.replace('http', 'ws')}/mqtt`);
    const c = await mqtt.connectAsync(ep.wsUrl!, {
      clientId: 'dev-a',
      username: 'dev-a',
      password: 'secret-a',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    expect(await c.subscribeAsync(`${P}/devices/dev-a/desired`)).toEqual([expect.objectContaining({ qos: 0 })]);
    await c.endAsync();
    const status = await new Promise<number>((resolve) => {
      const other = new WebSocket(`${url.replace('http', 'ws')}/elsewhere`, 'mqtt');
      other.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      other.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
    await expect(
      mqtt.connectAsync(ep.wsUrl!, { clientId: 'dev-a', username: 'dev-a', password: 'nope', reconnectPeriod: 0 }),
    ).rejects.toThrow();
    await ws.close();
    http.close();
  });

  it('compares credential hashes in constant time and only on equal length', () => {
    const h = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3'; // sha256("123")
    expect(hashMatches(h, '123')).toBe(true);
    expect(hashMatches(h, '124')).toBe(false);
    expect(hashMatches('abcd', '123')).toBe(false);
  });
});
