// Bounds of the embedded broker against a real server process: oversized and trickled packets cost
// little and are dropped; a subscriber that stops reading neither grows the server nor delays others.
// The drain timeout is lowered to 12 s here (default 30 s) so "minutes" fit in a test.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { RawMqttClient } from '../../server/src/broker/raw-mqtt.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { deviceClient, linearOnnx, mqttPort, nextMessage, provision, registerOnnxModel, rssMiB, topic } from '../delivery/fleet-kit.ts';

const LIMITS = { drainTimeoutMs: 12_000, partialPacketTimeoutMs: 2000, devicePublishRate: 500, devicePublishBurst: 1000 };
let srv: ServerHandle;
let bundle: { id: string; chunkDigests: string[]; envelopeDigest: string };

beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_BROKER_LIMITS: JSON.stringify(LIMITS) } });
  await registerOnnxModel(srv, 'big', linearOnnx(512, 256));
  bundle = (await srv.api('POST', '/api/v1/bundles', { model: 'big', avgChunkSize: 65536 })).body;
});
afterAll(async () => srv?.dispose());

const open = () =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ port: mqttPort(srv), host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.on('error', reject);
  });
const closed = (s: Socket) => new Promise<number>((r) => (s.destroyed ? r(Date.now()) : s.once('close', () => r(Date.now()))));
const pid = () => srv.proc.pid!;

/** Writes as fast as the socket takes it until it closes or `bytes` are written; returns bytes written. */
async function flood(s: Socket, bytes: number): Promise<number> {
  const block = Buffer.alloc(64 * 1024);
  let sent = 0;
  s.on('error', () => undefined);
  while (sent < bytes && !s.destroyed) {
    if (!s.write(block)) await Promise.race([new Promise((r) => s.once('drain', r)), closed(s)]);
    sent += block.length;
  }
  return sent;
}

describe('oversized and trickled packets', () => {
  it('drops a client that declares a 256 MB CONNECT, at once and before authentication, at a cost of under a few MB', async () => {
    const before = rssMiB(pid());
    const s = await open();
    s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    const sent = await flood(s, 256 * 1024 * 1024);
    await closed(s);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    expect(rssMiB(pid()) - before).toBeLessThan(8);
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    expect(m).toMatch(/flotilla_mqtt_frames_refused_total [1-9]/);
  });

  it('drops an authenticated device that declares a 256 MB PUBLISH', async () => {
    const d = await provision(srv);
    const c = await RawMqttClient.connect({ port: mqttPort(srv), clientId: d.id, username: d.id, password: d.token });
    const before = rssMiB(pid());
    c.socket.write(Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f]));
    await flood(c.socket, 256 * 1024 * 1024);
    await closed(c.socket);
    expect(rssMiB(pid()) - before).toBeLessThan(8);
  });

  it('drops clients that trickle a packet, and 200 of them at once hold little memory', async () => {
    const before = rssMiB(pid());
    const sockets = await Promise.all(Array.from({ length: 200 }, () => open()));
    const t0 = Date.now();
    // Each declares a CONNECT just under the pre-authentication limit and sends half of it.
    for (const s of sockets) {
      s.on('error', () => undefined);
      s.write(Buffer.concat([Buffer.from([0x10, 0xbc, 0x3e]), Buffer.alloc(4000, 0x41)]));
    }
    const trickle = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write(Buffer.from([0x41]))), 200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(rssMiB(pid()) - before).toBeLessThan(16);
    const ends = await Promise.all(sockets.map(closed));
    clearInterval(trickle);
    // The partial-packet timeout is 2 s here; generous bound for a loaded machine.
    expect(Math.max(...ends) - t0).toBeLessThan(10_000);
    expect(Math.min(...ends) - t0).toBeGreaterThanOrEqual(1500);
  });
});

describe('a subscriber that stops reading', () => {
  it('costs bounded memory, does not delay other devices, and is disconnected after the drain timeout', async () => {
    const stalled = await provision(srv);
    const healthy = await provision(srv);
    await srv.api('POST', '/api/v1/devices/desired', { devices: [stalled.id], bundle: bundle.id });
    const s = await RawMqttClient.connect({
      port: mqttPort(srv),
      clientId: stalled.id,
      username: stalled.id,
      password: stalled.token,
      autoAck: false,
    });
    await s.subscribe([topic(stalled.id, 'chunks/res')], 1);
    // From here it never reads again, but keeps asking for 64 KiB chunks.
    s.socket.pause();
    const h = await deviceClient(srv.info.mqttUrl, healthy);
    await h.subscribeAsync(topic(healthy.id, 'desired'), { qos: 1 });
    const baseline = rssMiB(pid());
    let peak = baseline;
    const t0 = Date.now();
    const sClosed = closed(s.socket);
    let stop = false;
    void sClosed.then(() => (stop = true));
    let i = 0;
    const asking = setInterval(() => {
      for (let k = 0; k < 10 && !stop; k++) {
        const digest = bundle.chunkDigests[i++ % bundle.chunkDigests.length]!;
        s.publishNoWait(topic(stalled.id, 'chunks/req'), Buffer.from(JSON.stringify({ v: 1, cid: `c${i}`, digest })), 0);
      }
    }, 100);
    const latencies: number[] = [];
    while (!stop && Date.now() - t0 < 30_000) {
      const sent = Date.now();
      const got = nextMessage(h, topic(healthy.id, 'desired'), () => true, 5000);
      await srv.api('PUT', `/api/v1/devices/${healthy.id}/desired`, { bundle: latencies.length % 2 ? null : bundle.id });
      await got;
      latencies.push(Date.now() - sent);
      peak = Math.max(peak, rssMiB(pid()));
      await new Promise((r) => setTimeout(r, 500));
    }
    clearInterval(asking);
    const end = await sClosed;
    // Disconnected by the drain timeout (12 s), not earlier and not much later.
    expect(end - t0).toBeGreaterThanOrEqual(LIMITS.drainTimeoutMs - 1000);
    expect(end - t0).toBeLessThan(LIMITS.drainTimeoutMs + 15_000);
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(3000);
    expect(peak - baseline).toBeLessThan(40);
    const shown = (await srv.api('GET', `/api/v1/devices/${stalled.id}`)).body;
    expect(shown.counters.outboundShed).toBeGreaterThan(0);
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    expect(m).toMatch(/flotilla_mqtt_drain_timeouts_total [1-9]/);
    await h.endAsync();
  }, 60_000);
});

describe('raw packets', () => {
  it('a malformed remaining length or a packet before CONNECT closes only that connection', async () => {
    const s1 = await open();
    s1.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]));
    await closed(s1);
    const s2 = await open();
    s2.write(mqttPacket.generate({ cmd: 'publish', topic: 'x', payload: Buffer.from('y'), qos: 0, retain: false, dup: false }));
    await closed(s2);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });
});
