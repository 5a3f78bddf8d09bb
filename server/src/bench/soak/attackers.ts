// The soak's attackers, each bounded and loopback-only: a device that abuses its own credential, a web page
// that calls the API from a foreign origin, and a flood of sockets that never say CONNECT.
import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { DEFAULT_PREFIX, deviceTopic } from '@flotilla/firmware-bundler/wire';

/** What an attacker did, for the report: nothing here judges, the soak's checks do. */
export interface AttackTally {
  sent: number;
  /** Answers by HTTP status, or socket outcomes (`closed by server`, …). */
  outcomes: Record<string, number>;
}

export interface Attacker {
  readonly name: string;
  readonly tally: AttackTally;
  stop(): Promise<void>;
}

const count = (t: AttackTally, outcome: string): void => {
  t.outcomes[outcome] = (t.outcomes[outcome] ?? 0) + 1;
};
const randomName = () => `m-${Math.random().toString(36).slice(2)}-${'x'.repeat(200)}`;

/**
 * A provisioned device that publishes, as fast as `perSecond` allows: telemetry for models it was never
 * given (each a new name), oversized and lying sample batches, malformed JSON, and reported states with
 * megabyte strings. It reconnects whenever the server drops it.
 */
export function hostileDevice(mqttUrl: string, device: { id: string; token: string }, perSecond = 50): Attacker {
  const tally: AttackTally = { sent: 0, outcomes: {} };
  const client = mqtt.connect(mqttUrl, {
    clientId: device.id,
    username: device.id,
    password: device.token,
    reconnectPeriod: 500,
    connectTimeout: 5000,
  });
  client.on('connect', () => count(tally, 'connected'));
  client.on('close', () => count(tally, 'closed'));
  client.on('error', () => count(tally, 'error'));
  const topic = (leaf: 'telemetry' | 'samples' | 'status' | 'reported') => deviceTopic(DEFAULT_PREFIX, device.id, leaf);
  const now = () => new Date().toISOString();
  let seq = 0;
  const payloads: (() => [string, string | Buffer])[] = [
    () => [
      topic('telemetry'),
      JSON.stringify({
        v: 1,
        seq: seq++,
        start: now(),
        end: now(),
        model: { name: randomName(), version: '1.0.0', sequence: 1 },
        requests: 1_000_000,
        errors: 0,
        latencyMs: { p50: 1, p95: 1, p99: 1, hist: { edges: [0, 1], counts: [1] } },
        predictions: [1_000_000],
      }),
    ],
    () => [
      topic('samples'),
      JSON.stringify({
        v: 1,
        seq: seq++,
        items: Array.from({ length: 200 }, (_, i) => ({
          predictionId: `p${seq}-${i}`,
          input: 'A'.repeat(4000),
          shape: [1, 784],
          prediction: 0,
          confidence: 1,
          label: 7,
          at: now(),
        })),
      }),
    ],
    () => [topic('status'), '{"v":1,"seq":'],
    () => [
      topic('reported'),
      JSON.stringify({
        v: 1,
        agentVersion: 'a'.repeat(1 << 20),
        runtime: 'r',
        state: 'idle',
        model: null,
        bundleId: null,
        freeStorageBytes: null,
        lastError: null,
        at: now(),
      }),
    ],
    () => [topic('telemetry'), Buffer.alloc(300_000, 0x7b)],
  ];
  const timer = setInterval(() => {
    if (!client.connected) return;
    const [t, body] = payloads[tally.sent % payloads.length]!();
    tally.sent++;
    client.publish(t, body, { qos: 0 });
  }, 1000 / perSecond);
  return {
    name: 'hostile device',
    tally,
    async stop() {
      clearInterval(timer);
      await client.endAsync(true).catch(() => undefined);
    },
  };
}

/**
 * A web page on another origin calling the server's API: no credential, a wrong one, `?token=` on a
 * non-SSE route, an oversized body, a deeply nested body, and a heavy preview of the whole fleet.
 */
export function hostilePage(server: string, perSecond = 20): Attacker {
  const tally: AttackTally = { sent: 0, outcomes: {} };
  const headers = { origin: 'https://evil.example', 'content-type': 'application/json' };
  const nested = '['.repeat(100_000) + ']'.repeat(100_000);
  const requests: (() => [string, RequestInit])[] = [
    () => ['/api/v1/devices', { headers }],
    () => ['/api/v1/devices', { headers: { ...headers, authorization: 'Bearer flt_not_a_token' } }],
    () => ['/api/v1/monitoring/drift?token=flt_guess', { headers }],
    () => ['/api/v1/rollouts', { method: 'POST', headers, body: 'x'.repeat(6 << 20) }],
    () => ['/api/v1/rollouts', { method: 'POST', headers, body: nested }],
    () => ['/api/v1/rollouts/preview?target=all', { headers }],
  ];
  let stopped = false;
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (stopped || inflight.size >= 8) return;
    const [path, init] = requests[tally.sent % requests.length]!();
    tally.sent++;
    const p = fetch(`${server}${path}`, { ...init, signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        await r.arrayBuffer().catch(() => undefined);
        count(tally, String(r.status));
      })
      .catch(() => count(tally, 'network error'))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }, 1000 / perSecond);
  return {
    name: 'hostile page',
    tally,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inflight);
    },
  };
}

/**
 * `sockets` TCP connections to the MQTT port that never send CONNECT; each one the server closes is
 * opened again (at most `perSecond` a second), so the pressure lasts the whole run. They come from
 * `FLOOD_SOURCE`, another loopback address, as a flood from the internet comes from elsewhere than the fleet: from
 * the devices' own address it filled that address's pending-connection allowance and no device could (re)connect,
 * the hostile one included, so the soak measured the limit instead of the hostile device.
 */
/** Linux answers all of 127.0.0.0/8 on the loopback interface. */
export const FLOOD_SOURCE = '127.0.0.2';

export function socketFlood(mqttUrl: string, sockets = 500, perSecond = 200): Attacker {
  const tally: AttackTally = { sent: 0, outcomes: {} };
  const { hostname, port } = new URL(mqttUrl);
  const open = new Set<Socket>();
  let stopped = false;
  const timer = setInterval(() => {
    for (let i = 0; i < perSecond / 10 && open.size < sockets && !stopped; i++) {
      const s = tcpConnect({ port: Number(port), host: hostname, localAddress: FLOOD_SOURCE });
      tally.sent++;
      open.add(s);
      s.on('error', () => count(tally, 'error'));
      s.on('close', () => {
        open.delete(s);
        if (!stopped) count(tally, 'closed by server');
      });
    }
  }, 100);
  return {
    name: 'socket flood',
    tally,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const s of open) s.destroy();
    },
  };
}
