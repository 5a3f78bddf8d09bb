// Child process load generator for the broker benchmark: raw sockets and mqtt-packet, no mqtt.js,
// so ten thousand devices and tens of thousands of messages a second stay cheap here.
// Commands arrive over IPC; each answers with one result message.
import { RawMqttClient } from './raw-mqtt.ts';
import { BENCH_SERVICE, benchDeviceId, benchToken, telemetryTopic } from './broker-fleet.ts';

export type LoadgenCommand =
  | { type: 'idle'; port: number; count: number }
  | { type: 'closeIdle' }
  | { type: 'setup'; port: number; publishers: number; payloadBytes: number }
  /** One measured step: open loop at `rate` msg/s, or closed loop with `window` outstanding per publisher when rate is null. */
  | { type: 'step'; rate: number | null; window: number; warmupMs: number; durationMs: number }
  | { type: 'teardown' };

export interface IdleResult { connected: number; failed: number; seconds: number }

export interface LoadResult {
  /** Offered rate of the step (msg/s), or null for a closed loop. */
  rate: number | null;
  /** Messages the generator meant to send in the measured window. */
  offered: number;
  /** Written to a socket (the rest were held back because the broker pushed back). */
  sent: number;
  /** PUBACKed by the broker. */
  accepted: number;
  /** Received by the subscriber, distinct. */
  delivered: number;
  duplicates: number;
  /** Accepted but never delivered (after a grace period). */
  lost: number;
  seconds: number;
  acceptedPerSec: number;
  deliveredPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

let idle: RawMqttClient[] = [];

async function connectMany(port: number, ids: number[], concurrency: number): Promise<{ clients: RawMqttClient[]; failed: number }> {
  const clients: RawMqttClient[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = benchDeviceId(ids[next++]!);
      try {
        const c = await RawMqttClient.connect({ port, clientId: id, username: id, password: benchToken(id), timeoutMs: 30_000 });
        c.on('error', () => undefined);
        clients.push(c);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { clients, failed };
}

async function runIdle(port: number, count: number): Promise<IdleResult> {
  const t0 = performance.now();
  const r = await connectMany(port, Array.from({ length: count }, (_, i) => i), 64);
  idle = r.clients;
  return { connected: r.clients.length, failed: r.failed, seconds: (performance.now() - t0) / 1000 };
}

/** Per-publisher bitmaps of delivered sequence numbers, for loss and duplicate counts. */
class Seen {
  private readonly maps: Uint8Array[] = [];
  duplicates = 0;
  distinct = 0;
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
    this.distinct++;
    return true;
  }
}

interface Rig {
  sub: RawMqttClient;
  pubs: RawMqttClient[];
  topics: string[];
  seqs: Uint32Array;
  seen: Seen;
  payloadBytes: number;
  /** Called for every distinct delivery with the send time carried in the payload. */
  onDelivered: (sentAt: number, now: number) => void;
}

let rig: Rig | null = null;

async function setup(c: Extract<LoadgenCommand, { type: 'setup' }>): Promise<null> {
  const sub = await RawMqttClient.connect({ port: c.port, clientId: `${BENCH_SERVICE.username}-sub`, username: BENCH_SERVICE.username, password: BENCH_SERVICE.password });
  const granted = await sub.subscribe(['flotilla/v1/devices/+/telemetry'], 1);
  if (granted[0] !== 1) throw new Error(`subscriber was refused: ${granted}`);
  const { clients: pubs } = await connectMany(c.port, Array.from({ length: c.publishers }, (_, i) => i), 32);
  const r: Rig = {
    sub, pubs, topics: pubs.map((_, i) => telemetryTopic(benchDeviceId(i))), seqs: new Uint32Array(pubs.length), seen: new Seen(),
    payloadBytes: c.payloadBytes, onDelivered: () => undefined,
  };
  sub.on('message', (p: { payload: Buffer }) => {
    const now = performance.now();
    const b = p.payload;
    if (r.seen.mark(b.readUInt32LE(0), b.readUInt32LE(4))) r.onDelivered(b.readDoubleLE(8), now);
  });
  rig = r;
  return null;
}

async function step(c: Extract<LoadgenCommand, { type: 'step' }>): Promise<LoadResult> {
  const r = rig;
  if (!r) throw new Error('setup first');
  const latencies: number[] = [];
  const t0 = performance.now();
  const mStart = t0 + c.warmupMs;
  const mEnd = mStart + c.durationMs;
  const inWindow = (t: number) => t >= mStart && t < mEnd;
  let offered = 0, sent = 0, accepted = 0, delivered = 0;
  const dupsBefore = r.seen.duplicates;
  r.onDelivered = (sentAt, now) => {
    if (!inWindow(sentAt)) return;
    delivered++;
    latencies.push(now - sentAt);
  };

  const send = (i: number): Promise<void> | null => {
    const pub = r.pubs[i]!;
    const now = performance.now();
    if (inWindow(now)) offered++;
    if (pub.socket.writableNeedDrain || pub.closed) return null;
    const payload = Buffer.alloc(r.payloadBytes);
    payload.writeUInt32LE(i, 0);
    payload.writeUInt32LE(r.seqs[i]!++, 4);
    payload.writeDoubleLE(now, 8);
    if (inWindow(now)) sent++;
    return r.pubs[i]!.publish(r.topics[i]!, payload, 1).then(() => {
      if (inWindow(now)) accepted++;
    });
  };

  if (c.rate === null) {
    // Closed loop: each publisher keeps `window` messages outstanding.
    const loop = async (i: number) => {
      while (performance.now() < mEnd && !r.pubs[i]!.closed) {
        const p = send(i);
        if (p) await p;
        else await new Promise((res) => r.pubs[i]!.socket.once('drain', res));
      }
    };
    await Promise.all(r.pubs.flatMap((_, i) => Array.from({ length: c.window }, () => loop(i))));
  } else {
    // Open loop: a fixed offered rate, whatever the broker does; held-back sends count as pushed back.
    const rate = c.rate;
    let due = 0;
    let rr = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        if (now >= mEnd) {
          clearInterval(tick);
          resolve();
          return;
        }
        const target = Math.floor(((now - t0) / 1000) * rate);
        for (; due < target; due++) {
          void send(rr);
          rr = (rr + 1) % r.pubs.length;
        }
      }, 2);
    });
  }
  // Grace: let what was accepted arrive (up to 10 s after the last change).
  const tEnd = performance.now();
  let last = -1;
  while (delivered !== last || performance.now() - tEnd < 500) {
    last = delivered;
    await new Promise((res) => setTimeout(res, 250));
    if (performance.now() - tEnd > 10_000) break;
  }
  r.onDelivered = () => undefined;
  const seconds = c.durationMs / 1000;
  latencies.sort((a, b) => a - b);
  const q = (x: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(x * latencies.length))]! : NaN);
  return {
    rate: c.rate, offered, sent, accepted, delivered, duplicates: r.seen.duplicates - dupsBefore, lost: Math.max(0, accepted - delivered),
    seconds, acceptedPerSec: accepted / seconds, deliveredPerSec: delivered / seconds, p50Ms: q(0.5), p99Ms: q(0.99),
  };
}

function teardown(): null {
  for (const p of rig?.pubs ?? []) p.end();
  rig?.sub.end();
  rig = null;
  return null;
}

process.on('message', (cmd: LoadgenCommand) => {
  const done = (r: unknown) => process.send!({ ok: true, result: r });
  const fail = (e: unknown) => process.send!({ ok: false, error: String((e as Error)?.stack ?? e) });
  if (cmd.type === 'idle') runIdle(cmd.port, cmd.count).then(done, fail);
  else if (cmd.type === 'closeIdle') {
    for (const c of idle) c.socket.destroy();
    idle = [];
    done(null);
  } else if (cmd.type === 'setup') setup(cmd).then(done, fail);
  else if (cmd.type === 'step') step(cmd).then(done, fail);
  else done(teardown());
});
