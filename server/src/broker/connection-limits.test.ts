// Connection bounds of the embedded broker with real sockets on 127.0.0.1: one source cannot hold more
// than its share of sockets that never authenticate, authenticated devices do not count against it, and
// the connection limit stays below the process's open-file limit.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import type { DeviceAuthority } from './broker-link.ts';
import { connectionCeiling, RESERVED_DESCRIPTORS, softOpenFileLimit } from './connection-ceiling.ts';
import { EmbeddedAedesBroker } from './embedded-aedes-broker.ts';
import { RawMqttClient } from './raw-mqtt.ts';

const PENDING = 4;
const authority: DeviceAuthority = { authenticate: async (id, secret) => (secret === `s-${id}` ? { deviceId: id, groups: [] } : null) };
let broker: EmbeddedAedesBroker;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  broker = new EmbeddedAedesBroker({
    authority,
    log: createLogger('silent'),
    mqttPort: 0,
    limits: { maxPendingPerSource: PENDING, connectTimeoutMs: 20_000 },
  });
  port = Number(new URL((await broker.start()).mqttUrl).port);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await broker?.close();
});

/** A TCP socket that never sends CONNECT; resolves once connected. */
const idle = () =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.on('error', () => undefined);
    s.once('error', reject);
    sockets.push(s);
  });
/** Resolves true when `s` is closed by the server within `ms`, false when it is still open then. */
const closedWithin = (s: Socket, ms: number) =>
  new Promise<boolean>((r) => {
    if (s.destroyed || s.readableEnded) return r(true);
    const t = setTimeout(() => r(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      r(true);
    });
  });

/** Connects and authenticates a device, retrying briefly while the server notices a freed slot. */
async function connectDevice(id: string): Promise<RawMqttClient> {
  for (let i = 0; ; i++) {
    try {
      return await RawMqttClient.connect({ port, clientId: id, username: id, password: `s-${id}`, timeoutMs: 2000 });
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('pending connections per source', () => {
  it('closes idle sockets beyond the per-source limit at once, keeps the others, and still admits devices', async () => {
    const held = await Promise.all(Array.from({ length: PENDING }, idle));
    const extra = await Promise.all(Array.from({ length: 3 }, idle));
    for (const s of extra) expect(await closedWithin(s, 2000)).toBe(true);
    for (const s of held) expect(s.destroyed).toBe(false);
    // An idle socket leaving frees its slot: a device from the same address connects and authenticates...
    held.pop()!.destroy();
    const dev = await connectDevice('d1');
    // ...and, authenticated, no longer counts: another idle socket fits again.
    const again = await idle();
    expect(await closedWithin(again, 500)).toBe(false);
    dev.end();
  });
});

describe('connection ceiling from the open-file limit', () => {
  it('reads the soft limit and keeps descriptors for the HTTP side', () => {
    const text =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 1048576              files\n';
    expect(softOpenFileLimit(text)).toBe(1024);
    expect(softOpenFileLimit('Max open files unlimited unlimited files')).toBeNull();
    expect(connectionCeiling(50_000, 1024)).toBe(768);
    expect(connectionCeiling(50_000, 65_536)).toBe(49_152);
    expect(connectionCeiling(50_000, 300)).toBe(44);
    expect(connectionCeiling(100, 65_536)).toBe(100);
    expect(connectionCeiling(50_000, null)).toBe(50_000);
  });

  it('is what the broker enforces in this process', () => {
    expect(broker.limits.maxConnections).toBe(connectionCeiling(50_000));
    const soft = softOpenFileLimit();
    expect(soft).not.toBeNull(); // Linux: /proc/self/limits
    expect(broker.limits.maxConnections).toBeLessThanOrEqual(soft! - RESERVED_DESCRIPTORS);
  });
});
