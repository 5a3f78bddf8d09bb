// [WIRE-2.10] A hostile device against the real server's telemetry ingest: windows for models it was never
// given make no streams, inflated counts are clipped to what its window length allows, and windows over time
// it was credited for already add nothing. Every window is still acknowledged, so an honest agent's queue
// never clogs. What a device was admitted and credited for is read back from its stored telemetry after a restart.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { restartServerProcess, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { deviceClient, topic } from '../delivery/fleet-kit.ts';
import { deviceFor, serverBundle } from '../agent/server-kit.ts';

let srv: ServerHandle;
let c: MqttClient;
let device: { id: string; token: string };
let given: { name: string; version: string };
/** A bundle the server made but never gave this device in its desired state. */
let other: { id: string; version: string };
const acked = new Set<number>();

beforeAll(async () => {
  srv = await startServerProcess();
  other = await serverBundle(srv, 'kws');
  const b = await serverBundle(srv, 'kws');
  given = { name: 'kws', version: b.version };
  device = await deviceFor(srv, b.id);
  await connect();
}, 60_000);

async function connect(): Promise<void> {
  c = await deviceClient(srv.info.mqttUrl, device);
  c.on('message', (t, p) => {
    if (t === topic(device.id, 'ack')) for (const s of JSON.parse(String(p)).seqs as number[]) acked.add(s);
  });
  await c.subscribeAsync(topic(device.id, 'ack'), { qos: 1 });
}
afterAll(async () => {
  await c?.endAsync();
  await srv?.dispose();
});

/** Where the next window starts: each test's windows get their own time, back to back, unless a test says otherwise. */
let cursor = Date.now() - 2 * 3600_000;

function telemetryWindow(
  seq: number,
  model: { name: string; version: string },
  requests: number,
  sec = 60,
  start = cursor,
): TelemetryWindow {
  const end = start + sec * 1000;
  cursor = Math.max(cursor, end);
  return {
    v: 1,
    seq,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    model: { ...model, sequence: 1 },
    requests,
    errors: 0,
    latencyMs: { p50: 1, p95: 2, p99: 3, hist: { edges: [0, 10], counts: [requests] } },
    predictions: [requests, 0, 0],
    confidence: { edges: [0, 1], counts: [requests] },
    features: {},
    feedback: { labelled: 0, correct: 0 },
    shadow: null,
    dropped: 0,
  };
}

async function send(...windows: TelemetryWindow[]): Promise<void> {
  for (const w of windows) await c.publishAsync(topic(device.id, 'telemetry'), JSON.stringify(w), { qos: 1 });
  const deadline = Date.now() + 15_000;
  while (!windows.every((w) => acked.has(w.seq))) {
    if (Date.now() > deadline) throw new Error(`windows ${windows.map((w) => w.seq)} not acknowledged; got ${[...acked]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function seriesByModel(): Promise<Record<string, number>> {
  const r = await srv.api('GET', `/api/v1/monitoring/series?scope=device&id=${device.id}&metrics=requests`);
  expect(r.status).toBe(200);
  const out: Record<string, number> = {};
  for (const s of r.body.series) out[s.model] = s.points.reduce((n: number, p: { requests?: number }) => n + (p.requests ?? 0), 0);
  return out;
}

it('stores windows only for the model the device was given, and acknowledges the refused ones too', async () => {
  const fakes = Array.from({ length: 20 }, (_, i) => telemetryWindow(10 + i, { name: `fake-${i}`, version: '1.0.0' }, 5));
  await send(telemetryWindow(1, given, 7), ...fakes, telemetryWindow(2, { name: 'kws', version: '9.9.9' }, 5));
  expect(await seriesByModel()).toEqual({ [`kws@${given.version}`]: 7 });
});

it('clips a window claiming more predictions than its length allows at the top rate', async () => {
  await send(telemetryWindow(100, given, 1e12, 60));
  // 60 s at 1,000 predictions per second, on top of the 7 the first test stored.
  expect(await seriesByModel()).toEqual({ [`kws@${given.version}`]: 7 + 60_000 });
});

it('also accepts the bundle the device reports running, as the server knows that bundle, never as the device names it', async () => {
  const reported = (bundleId: string | null, model: { name: string; version: string }) =>
    c.publishAsync(
      topic(device.id, 'reported'),
      JSON.stringify({
        v: 1,
        agentVersion: '1',
        runtime: 'ort',
        state: 'idle',
        model: { ...model, sequence: 1 },
        bundleId,
        freeStorageBytes: null,
        lastError: null,
        at: new Date().toISOString(),
      }),
      { qos: 1, retain: true },
    );
  const reportedNow = async (bundleId: string | null) => {
    for (let i = 0; i < 500; i++) {
      if ((await srv.api('GET', `/api/v1/devices/${device.id}`)).body.reported?.bundleId === bundleId) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('reported state not stored');
  };
  // Claims a model by name with no bundle the server knows: still refused.
  await reported(null, { name: 'invented', version: '1.0.0' });
  await reportedNow(null);
  await send(telemetryWindow(200, { name: 'invented', version: '1.0.0' }, 3));
  // Reports a real bundle of the server's (installed earlier, say): its model counts.
  await reported(other.id, { name: 'kws', version: other.version });
  await reportedNow(other.id);
  await send(telemetryWindow(201, { name: 'kws', version: other.version }, 4));
  expect(await seriesByModel()).toEqual({ [`kws@${given.version}`]: 7 + 60_000, [`kws@${other.version}`]: 4 });
});

it('remembers across a server restart which models a device was admitted for: its queued windows still count, invented ones still do not', async () => {
  // The device is moved on to a third bundle: the first model is neither desired nor reported any more,
  // but windows it queued under it (offline, say) are still its own.
  const third = await serverBundle(srv, 'kws');
  expect((await srv.api('PUT', `/api/v1/devices/${device.id}/desired`, { bundle: third.id })).status).toBe(200);
  await c.endAsync();
  srv = await restartServerProcess(srv);
  await connect();
  await send(telemetryWindow(300, given, 5), telemetryWindow(301, { name: 'fake-after-restart', version: '1.0.0' }, 5));
  expect(await seriesByModel()).toEqual({ [`kws@${given.version}`]: 7 + 60_000 + 5, [`kws@${other.version}`]: 4 });
}, 60_000);

it('accepts windows for a model a rollout gave the device after a newer rollout moved its desired state on', async () => {
  // Windows reach the server after the model they were made with is replaced: the soak's churning fleet
  // lost predictions this way until a refusal also looked at the rollouts that notified the device.
  const third = await serverBundle(srv, 'kws');
  const rollTo = async (bundle: string) => {
    const r = await srv.api('POST', '/api/v1/rollouts', {
      bundle,
      target: { deviceIds: [device.id] },
      supersede: true,
      stages: [{ percent: 100, bakeSec: 0, gates: { minReporting: 0 } }],
    });
    expect(r.status).toBe(201);
    for (let i = 0; i < 500; i++) {
      const d = (await srv.api('GET', `/api/v1/devices/${device.id}`)).body;
      if (d.desiredBundleId === bundle || d.desired?.bundle?.id === bundle) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`desired state never named ${bundle}`);
  };
  await rollTo(third.id);
  const back = await serverBundle(srv, 'kws');
  await rollTo(back.id);
  await send(telemetryWindow(310, { name: 'kws', version: third.version }, 5));
  expect((await seriesByModel())[`kws@${third.version}`]).toBe(5);
});

it('credits one device for its time only once: overlapping windows add nothing, honest back-to-back windows and resends lose and double nothing', async () => {
  const model = { name: 'kws', version: given.version };
  const key = `kws@${given.version}`;
  const before = (await seriesByModel())[key]!;
  // Honest: three windows back to back, then the second resent after a lost ack (same seq): stored once.
  const honest = [telemetryWindow(400, model, 50), telemetryWindow(401, model, 60), telemetryWindow(402, model, 70)];
  await send(...honest);
  acked.delete(401);
  await send(honest[1]!);
  expect((await seriesByModel())[key]).toBe(before + 180);
  // Hostile: 40 windows over the same minute, each new seq and each within the rate its own length allows.
  const t = cursor;
  const flood = Array.from({ length: 40 }, (_, i) => telemetryWindow(500 + i, model, 60_000, 60, t));
  await send(...flood);
  // The minute is credited once: at most 60 s × 1,000 predictions per second, however many windows claim it.
  expect((await seriesByModel())[key]).toBe(before + 180 + 60_000);
  // A window half over credited time is credited for its other half: 30 s of the 60,000 it claims.
  await send(telemetryWindow(600, model, 60_000, 60, t + 30_000));
  expect((await seriesByModel())[key]).toBe(before + 180 + 60_000 + 30_000);
  // The refusals are counted, by reason, on /metrics.
  const metrics = (await srv.api('GET', '/metrics')).body as string;
  expect(metrics).toMatch(/flotilla_telemetry_windows_refused_total\{reason="overlapping"\} (\d+)/);
  expect(Number(/flotilla_telemetry_windows_refused_total\{reason="overlapping"\} (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(40);
  expect(metrics).toMatch(/flotilla_telemetry_windows_trimmed_total 1\b/);
});

it('remembers across a server restart what time a device was credited for', async () => {
  const model = { name: 'kws', version: given.version };
  const key = `kws@${given.version}`;
  const t = cursor;
  await send(telemetryWindow(700, model, 1000, 60, t));
  const before = (await seriesByModel())[key]!;
  await c.endAsync();
  srv = await restartServerProcess(srv);
  await connect();
  // The same minute again under new seqs, whole or in part: refused; the minute after it: counted.
  await send(
    telemetryWindow(701, model, 1000, 60, t),
    telemetryWindow(702, model, 1000, 30, t + 10_000),
    telemetryWindow(703, model, 9, 60, t + 60_000),
  );
  expect((await seriesByModel())[key]).toBe(before + 9);
}, 60_000);
