// Child process load generator for the broker benchmark: raw sockets and mqtt-packet, no mqtt.js,
// so ten thousand devices and tens of thousands of messages a second stay cheap. One process
// publishes, another subscribes, so neither starves the other. Commands arrive over IPC; each
// answers with one result message. Times are absolute (timeOrigin + now) so both sides agree.
import { RawMqttClient } from '../broker/raw-mqtt.ts';
import { BENCH_SERVICE, benchDeviceId, benchToken, telemetryTopic } from './broker-fleet.ts';

export type LoadgenCommand =
  | { type: 'idle'; port: number; count: number }
  | { type: 'closeIdle' }
  | { type: 'setup'; role: 'pub' | 'sub'; port: number; publishers: number; payloadBytes: number }
  /** One measured step over [startAt, startAt + durationMs): open loop at `rate` msg/s from `rampFrom` (abs ms). */
  | { type: 'step'; rate: number; rampFrom: number; startAt: number; durationMs: number }
  | { type: 'teardown' };

export interface IdleResult {
  connected: number;
  failed: number;
  seconds: number;
}

/** The publishing side of a step. */
export interface PubResult {
  /** Messages the generator meant to send in the window. */
  offered: number;
  /** Written to a socket (the rest were held back because the broker pushed back). */
  sent: number;
  /** PUBACKed by the broker. */
  accepted: number;
}

/** The subscribing side of a step. */
export interface SubResult {
  /** Distinct messages sent in the window that arrived (eventually). */
  delivered: number;
  /** Messages that arrived during the window, whenever sent: the delivered throughput. */
  arrivedInWindow: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let idle: RawMqttClient[] = [];

async function connectMany(port: number, count: number, concurrency: number): Promise<{ clients: RawMqttClient[]; failed: number }> {
  const clients: RawMqttClient[] = new Array(count);
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const id = benchDeviceId(i);
      try {
        const c = await RawMqttClient.connect({ port, clientId: id, username: id, password: benchToken(id), timeoutMs: 30_000 });
        c.on('error', () => undefined);
        clients[i] = c;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { clients: clients.filter(Boolean), failed };
}

/** Per-publisher bitmaps of delivered sequence numbers, for duplicate counts. */
class Seen {
  private readonly maps: Uint8Array[] = [];
  duplicates = 0;
  mark(pub: number, seq: number): boolean {
    let m = this.maps[pub] ?? (this.maps[pub] = new Uint8Array(1024));
    if (seq >= m.length * 8) {
      const bigger = new Uint8Array(Math.max(m.length * 2, (seq >> 3) + 1));
      bigger.set(m);
      m = this.maps[pub] = bigger;
    }
    const bit = 1 << (seq & 7);
    if (m[seq >> 3]! & bit) {
      this.duplicates++;
      return false;
    }
    m[seq >> 3]! |= bit;
    return true;
  }
}

let pubs: RawMqttClient[] = [];
let topics: string[] = [];
let seqs = new Uint32Array(0);
let payloadBytes = 128;
let sub: RawMqttClient | null = null;
let seen = new Seen();
let onDelivered: (sentAt: number, at: number) => void = () => undefined;

async function setup(c: Extract<LoadgenCommand, { type: 'setup' }>): Promise<null> {
  payloadBytes = c.payloadBytes;
  if (c.role === 'sub') {
    // Sequence numbers restart with every setup, so must the record of what arrived.
    seen = new Seen();
    sub = await RawMqttClient.connect({
      port: c.port,
      clientId: `${BENCH_SERVICE.username}-sub`,
      username: BENCH_SERVICE.username,
      password: BENCH_SERVICE.password,
    });
    const granted = await sub.subscribe(['flotilla/v1/devices/+/telemetry'], 1);
    if (granted[0] !== 1) throw new Error(`subscriber was refused: ${granted}`);
    sub.on('message', (p: { payload: Buffer }) => {
      const at = now();
      const b = p.payload;
      if (seen.mark(b.readUInt32LE(0), b.readUInt32LE(4))) onDelivered(b.readDoubleLE(8), at);
    });
    return null;
  }
  pubs = (await connectMany(c.port, c.publishers, 32)).clients;
  topics = pubs.map((_, i) => telemetryTopic(benchDeviceId(i)));
  seqs = new Uint32Array(pubs.length);
  return null;
}

/** Unacknowledged QoS 1 messages a publisher keeps at most, like a device's in-flight window (mosquitto's default is 20). */
const PUBLISHER_WINDOW = 20;

async function pubStep(c: Extract<LoadgenCommand, { type: 'step' }>): Promise<PubResult> {
  const end = c.startAt + c.durationMs;
  const inWindow = (t: number) => t >= c.startAt && t < end;
  let offered = 0,
    sent = 0,
    accepted = 0;
  let outstanding = 0;
  const perPub = new Uint16Array(pubs.length);
  const send = (i: number, t: number) => {
    const pub = pubs[i]!;
    const counted = inWindow(t);
    if (counted) offered++;
    // A full window or a full socket is the broker pushing back: the message is not sent.
    if (perPub[i]! >= PUBLISHER_WINDOW || pub.socket.writableNeedDrain || pub.closed) return;
    const payload = Buffer.alloc(payloadBytes);
    payload.writeUInt32LE(i, 0);
    payload.writeUInt32LE(seqs[i]!++, 4);
    payload.writeDoubleLE(t, 8);
    if (counted) sent++;
    outstanding++;
    perPub[i]!++;
    void pub.publish(topics[i]!, payload, 1).then(() => {
      outstanding--;
      perPub[i]!--;
      if (counted) accepted++;
    });
  };
  // Open loop: a fixed offered rate whatever the broker does; held-back sends count as pushed back.
  let due = 0;
  let rr = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = now();
      if (t >= end) {
        clearInterval(tick);
        resolve();
        return;
      }
      const target = Math.floor(((t - c.rampFrom) / 1000) * c.rate);
      for (; due < target; due++) {
        send(rr, t);
        rr = (rr + 1) % pubs.length;
      }
    }, 2);
  });
  for (let waited = 0; outstanding > 0 && waited < 30_000; waited += 100) await sleep(100);
  return { offered, sent, accepted };
}

async function subStep(c: Extract<LoadgenCommand, { type: 'step' }>): Promise<SubResult> {
  const end = c.startAt + c.durationMs;
  const latencies: number[] = [];
  const dupsBefore = seen.duplicates;
  let delivered = 0;
  let arrivedInWindow = 0;
  onDelivered = (sentAt, at) => {
    if (at >= c.startAt && at < end) arrivedInWindow++;
    if (sentAt < c.startAt || sentAt >= end) return;
    delivered++;
    latencies.push(at - sentAt);
  };
  while (now() < end) await sleep(100);
  // Grace: let what was accepted arrive (until nothing new for 2 s, at most 30 s), so late is not lost.
  let last = -1;
  for (let waited = 0; delivered !== last && waited < 30_000; waited += 2000) {
    last = delivered;
    await sleep(2000);
  }
  onDelivered = () => undefined;
  latencies.sort((a, b) => a - b);
  const q = (x: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(x * latencies.length))]! : NaN);
  return { delivered, arrivedInWindow, duplicates: seen.duplicates - dupsBefore, p50Ms: q(0.5), p99Ms: q(0.99) };
}

async function runIdle(port: number, count: number): Promise<IdleResult> {
  const t0 = performance.now();
  const r = await connectMany(port, count, 64);
  idle = r.clients;
  return { connected: r.clients.length, failed: r.failed, seconds: (performance.now() - t0) / 1000 };
}

process.on('message', (cmd: LoadgenCommand) => {
  const done = (r: unknown) => process.send!({ ok: true, result: r });
  const fail = (e: unknown) => process.send!({ ok: false, error: String((e as Error)?.stack ?? e) });
  switch (cmd.type) {
    case 'idle':
      runIdle(cmd.port, cmd.count).then(done, fail);
      break;
    case 'closeIdle':
      for (const c of idle) c.socket.destroy();
      idle = [];
      done(null);
      break;
    case 'setup':
      setup(cmd).then(done, fail);
      break;
    case 'step':
      (sub ? subStep(cmd) : pubStep(cmd)).then(done, fail);
      break;
    case 'teardown':
      for (const p of pubs) p.end();
      sub?.end();
      pubs = [];
      sub = null;
      done(null);
  }
});
