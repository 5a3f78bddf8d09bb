// The monitoring service on real SQLite files: dedup, bad input, series, retention, events, alert lifecycle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteTelemetry } from '@flotilla/test/support/telemetry-store';
import type { AlertChange } from './alert.ts';
import { psi } from './drift-metrics.ts';
import { MonitoringError } from './monitoring-error.ts';
import { MonitoringService, type IngestItem, type MonitoringOptions } from './monitoring-service.ts';
import { contractWindow } from './telemetry-store-contract.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { simulatedReference, simulateWindow } from './telemetry-sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-monitoring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const T0 = Date.parse('2026-03-01T10:00:00Z');
const LIGHT = { name: 'light', edges: [0, 1, 2, 3], frequencies: [0.2, 0.3, 0.5] };

async function open(over: Partial<MonitoringOptions> = {}, path = join(dir, `m${files++}.db`)) {
  const telemetry = openSqliteTelemetry(path);
  let ids = 0;
  const service = await MonitoringService.open({
    store: telemetry.store,
    now: () => T0 + 3_600_000,
    newId: () => `alert-${++ids}`,
    ...over,
  });
  return {
    service,
    path,
    close: async () => {
      await service.close();
      telemetry.close();
    },
  };
}

const item = (deviceId: string, seq: number, over: Parameters<typeof contractWindow>[2] = {}, cohorts = ['north']): IngestItem => ({
  deviceId,
  cohorts,
  window: contractWindow(seq, T0 + seq * 60_000, over),
});

describe('MonitoringService ingest', () => {
  it('stores each (device, seq) once and reports duplicates for acknowledgement', async () => {
    const m = await open();
    await m.service.setReference('cam@1.0.0', { features: [LIGHT] });
    expect(await m.service.ingest([item('d1', 1), item('d1', 1), item('d2', 1)])).toMatchObject({
      accepted: 2,
      duplicates: 1,
      rejected: [],
    });
    expect(await m.service.ingest([item('d1', 1), item('d1', 2)])).toMatchObject({ accepted: 1, duplicates: 1 });
    const [s] = await m.service.series({ scope: 'fleet', from: T0, to: T0 + 3_600_000, bucket: 'hour', metrics: ['requests'] });
    expect(s?.points).toEqual([{ t: new Date(T0).toISOString(), windows: 3, requests: 30 }]);
    expect(m.service.stats()).toMatchObject({ accepted: 3, duplicates: 2 });
    await m.close();
  });

  it('counts and ignores features that do not fit the reference, and refuses broken windows with a reason', async () => {
    const m = await open();
    await m.service.setReference('cam@1.0.0', { features: [LIGHT] });
    const res = await m.service.ingest([
      item('d1', 1, { features: { light: [1, 2, 3, 4], speed: [1] } }),
      item('d1', 2, { model: { name: 'other', version: '9', sequence: 9 } }),
      item('d1', 3, { errors: 11 }),
      item('d1', 4, { start: 'yesterday' }),
      item('d1', 5, { confidence: { edges: [0, 1], counts: [1, 2] } }),
      item('bad/id', 6),
      item('d1', 7, {}, ['ok', '']),
      item('d1', 8, { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z' }),
      { deviceId: 'd1', cohorts: [], window: { v: 1, seq: 9 } as never },
    ]);
    expect(res.accepted).toBe(2);
    expect(res.ignored).toEqual({ bin_count_mismatch: 1, unknown_feature: 1, no_reference: 1 });
    expect(res.rejected.map((r) => [r.seq, r.reason])).toEqual([
      [3, 'inconsistent_counts'],
      [4, 'invalid_time'],
      [5, 'invalid_histogram'],
      [6, 'invalid_device'],
      [7, 'invalid_cohort'],
      [8, 'expired'],
      [9, 'invalid_schema'],
    ]);
    // Without the schema check (a caller that decoded already), garbage is still refused, not thrown.
    const lax = await open({ validateSchema: false });
    const r2 = await lax.service.ingest([{ deviceId: 'd1', cohorts: [], window: null as never }, item('d1', 4, { start: 'yesterday' })]);
    expect(r2.rejected.map((r) => r.reason)).toEqual(['invalid_schema', 'invalid_time']);
    await lax.close();
    await m.close();
  });

  it('answers series for the fleet, a cohort and a device, by hour or day, with drift and accuracy', async () => {
    const m = await open();
    await m.service.setReference('cam@1.0.0', { features: [LIGHT] }, ['cat', 'dog'], { predictions: [0.6, 0.4] });
    await m.service.ingest([
      item('d1', 1, { features: { light: [2, 3, 5] } }, ['north']),
      item('d2', 2, { features: { light: [10, 0, 0] } }, ['south']),
      item('d1', 70, {}, ['north']),
    ]);
    const q = {
      from: T0,
      to: T0 + 2 * 3_600_000,
      bucket: 'hour' as const,
      metrics: ['requests', 'errors', 'latency', 'predictions', 'drift', 'estimatedAccuracy', 'fieldAccuracy'] as const,
    };
    const [north] = await m.service.series({ ...q, scope: 'cohort', id: 'north' });
    expect(north?.points.map((p) => p.windows)).toEqual([1, 1]);
    const p0 = north!.points[0]!;
    expect(p0.errors).toEqual({ count: 1, rate: 0.1 });
    expect(p0.latency?.p50).toBeCloseTo(5 * (5 / 7), 9);
    expect(p0.predictions).toEqual({ counts: [6, 4], shares: [0.6, 0.4], labels: ['cat', 'dog'] });
    expect(p0.drift?.light?.psi).toBeCloseTo(0, 9);
    expect(p0.drift?.['@prediction']?.psi).toBeCloseTo(0, 9);
    expect(p0.estimatedAccuracy?.estimate).toBeCloseTo((2 * 0.25 + 8 * 0.75) / 10, 12);
    expect(p0.fieldAccuracy?.overall?.estimate).toBe(0.75);
    expect(p0.fieldAccuracy?.byClass?.map((c) => c?.estimate)).toEqual([1, 0.5]);
    const [south] = await m.service.series({ ...q, scope: 'cohort', id: 'south' });
    expect(south!.points[0]!.drift!.light!.psi).toBeGreaterThan(1);
    const [day] = await m.service.series({ ...q, scope: 'device', id: 'd1', bucket: 'day' });
    expect(day?.points).toHaveLength(1);
    expect(day?.points[0]).toMatchObject({ windows: 2, requests: 20 });
    const [fleet] = await m.service.series({ ...q, scope: 'fleet', metrics: ['requests'] });
    expect(fleet?.points.map((p) => p.requests)).toEqual([20, 10]);
    await expect(m.service.series({ ...q, scope: 'cohort' })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
    await expect(m.service.series({ ...q, scope: 'fleet', to: T0 })).rejects.toBeInstanceOf(MonitoringError);
    await m.close();
  });

  it('answers minute series for ranges up to 6 h: fleet and cohorts from minute rollups, a device from its windows', async () => {
    const m = await open();
    await m.service.setReference('cam@1.0.0', { features: [LIGHT] });
    // Windows in minutes 1, 2, 2 and 5 (item() starts window `seq` at T0 + seq minutes; seq 3 is moved into minute 2).
    await m.service.ingest([
      item('d1', 1),
      item('d1', 2),
      item('d2', 3, { start: new Date(T0 + 2 * 60_000 + 30_000).toISOString(), end: new Date(T0 + 2 * 60_000 + 40_000).toISOString() }),
      item('d1', 5),
    ]);
    const minutes = (xs: { points: { t: string; windows: number }[] }[]) =>
      xs[0]!.points.map((p) => [(Date.parse(p.t) - T0) / 60_000, p.windows]);
    const q = { from: T0, to: T0 + 15 * 60_000, bucket: 'minute' as const, metrics: ['requests', 'drift'] as const };
    expect(minutes(await m.service.series({ scope: 'fleet', ...q }))).toEqual([
      [1, 1],
      [2, 2],
      [5, 1],
    ]);
    expect(minutes(await m.service.series({ scope: 'cohort', id: 'north', ...q }))).toEqual([
      [1, 1],
      [2, 2],
      [5, 1],
    ]);
    const device = await m.service.series({ scope: 'device', id: 'd1', ...q });
    expect(minutes(device)).toEqual([
      [1, 1],
      [2, 1],
      [5, 1],
    ]);
    expect(device[0]!.points[0]!.drift!.light!.psi).toBeCloseTo(psi([1, 2, 7], LIGHT.frequencies), 12);
    // The same traffic by hour is one point: why charts of the last hours use minutes.
    expect(minutes(await m.service.series({ scope: 'fleet', ...q, bucket: 'hour' }))).toEqual([[0, 4]]);
    await expect(m.service.series({ scope: 'fleet', ...q, to: T0 + 7 * 3_600_000 })).rejects.toMatchObject({
      code: 'INVALID_QUERY',
      message: expect.stringMatching(/at most 6 h; ask for bucket=hour/),
    });
    await m.close();
  });

  it('judges a set of devices on one model since a time, for rollout gates (serving and shadow)', async () => {
    const m = await open();
    await m.service.setReference('cam@1.0.0', { features: [LIGHT] });
    const shadow = { model: { name: 'cam', version: '2.0.0', sequence: 2 }, requests: 10, errors: 1, agreements: 8, latencyP95Ms: 4 };
    await m.service.ingest([
      item('d1', 1, { shadow }),
      item('d2', 2),
      item('d3', 3, { model: { name: 'other', version: '1', sequence: 1 } }),
    ]);
    const h = await m.service.deviceSetHealth({
      deviceIds: ['d1', 'd2', 'd3', 'd4'],
      model: 'cam@1.0.0',
      since: T0,
      baselineConfidence: 0.8,
    });
    expect(h.reporting).toBe(2);
    expect(h.errorRate).toBe(0.1);
    // The evidence behind the rates, for the gates' minimums; bad input is counted apart.
    expect([h.requests, h.errors, h.clientErrors, h.driftSamples]).toEqual([20, 2, 0, 20]);
    // Latency [14, 6] on edges 0, 5, 10: the 19th of 20 lies 5/6 into the second bin.
    expect(h.p95LatencyMs).toBeCloseTo(5 + 5 * (5 / 6), 9);
    expect(h.confidenceDrop).toBeCloseTo(0.8 - 0.65, 12);
    expect(h.driftScore).toBeCloseTo(psi([2, 4, 14], LIGHT.frequencies), 12);
    expect(h.disagreement).toBeNull();
    const s = await m.service.deviceSetHealth({ deviceIds: ['d1', 'd2'], model: 'cam@2.0.0', since: T0, shadow: true });
    expect(s).toEqual({
      reporting: 1,
      requests: 10,
      errors: 1,
      clientErrors: 0,
      driftSamples: 0,
      errorRate: 0.1,
      p95LatencyMs: 4,
      confidenceDrop: null,
      driftScore: null,
      disagreement: expect.closeTo(0.2, 12),
    });
    expect((await m.service.deviceSetHealth({ deviceIds: ['d1'], model: 'cam@1.0.0', since: T0 })).confidenceDrop).toBeNull();
    await m.close();
  });

  it('applies retention: old windows and rollups go, and a window older than retention is refused', async () => {
    let now = T0 + 3_600_000;
    const m = await open({ now: () => now, retention: { windowDays: 1, rollupDays: 3 } });
    await m.service.ingest([item('d1', 1)]);
    now += 36 * 3_600_000;
    expect(await m.service.applyRetention()).toEqual({ windows: 1, rollups: 0, alerts: 0 });
    // Minute rollups (fleet and cohort) are kept 48 h, the hours (fleet, cohort, device) rollupDays.
    now += 13 * 3_600_000;
    expect(await m.service.applyRetention()).toEqual({ windows: 0, rollups: 2, alerts: 0 });
    now += 24 * 3_600_000;
    expect(await m.service.applyRetention()).toEqual({ windows: 0, rollups: 3, alerts: 0 });
    expect((await m.service.ingest([item('d1', 2)])).rejected[0]?.reason).toBe('expired');
    await m.close();
  });
});

describe('MonitoringService alerts', () => {
  const rng = seededRandom(11);
  const sim = simulatedReference(rng, 3);
  let seq = 0;
  const round = (r: number, shift: boolean): IngestItem[] =>
    ['a', 'b'].map((d) => ({
      deviceId: `dev-${d}`,
      cohorts: ['north'],
      window: simulateWindow(rng, sim, {
        seq: seq++,
        start: new Date(T0 + r * 60_000),
        requests: 300,
        shift: shift ? { features: ['f0'], fraction: 0.5 } : undefined,
      }),
    }));

  it('emits window and alert events and survives a throwing listener', async () => {
    const m = await open({});
    await m.service.setReference('cam@1.0.0', { features: sim.features }, sim.labels, {
      predictions: sim.predictions,
      confidence: sim.confidence,
    });
    const windows: string[] = [];
    const changes: AlertChange['type'][] = [];
    m.service.onWindow((w) => windows.push(`${w.deviceId}:${w.seq}`));
    m.service.onWindow(() => {
      throw new Error('listener bug');
    });
    const off = m.service.onAlert((c) => changes.push(c.type));
    await m.service.ingest(round(0, false));
    expect(windows).toEqual(['dev-a:0', 'dev-b:1']);
    const raised = [];
    for (let r = 1; r < 4; r++) raised.push(...(await m.service.ingest(round(r, true))).alertsRaised);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ id: 'alert-1', cohort: 'north', features: [expect.objectContaining({ name: 'f0' })] });
    await m.service.acknowledge('alert-1', 'tok_ops');
    expect((await m.service.alerts({ state: 'open' }))[0]).toMatchObject({ acknowledgedBy: 'tok_ops' });
    const resolved = await m.service.resolve('alert-1', 'tok_ops');
    expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'tok_ops' });
    await expect(m.service.resolve('alert-1', 'x')).rejects.toMatchObject({ code: 'ALERT_STATE' });
    await expect(m.service.acknowledge('nope', 'x')).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });
    off();
    await m.close();
    expect(changes[0]).toBe('raised');
    expect(changes.slice(-2)).toEqual(['acknowledged', 'resolved']);
  });

  it('resumes an open alert after a restart and resolves it once the drift ends', async () => {
    const path = join(dir, 'restart.db');
    const first = await open({}, path);
    await first.service.setReference('cam@1.0.0', { features: sim.features }, sim.labels, {
      predictions: sim.predictions,
      confidence: sim.confidence,
    });
    for (let r = 10; r < 13; r++) await first.service.ingest(round(r, true));
    const [open1] = await first.service.alerts({ state: 'open' });
    expect(open1).toBeDefined();
    await first.close();

    const second = await open({}, path);
    expect(second.service.reference('cam@1.0.0')?.features).toHaveLength(3);
    expect(
      second.service
        .drift()
        .filter((s) => s.alerting)
        .map((s) => s.stream),
    ).toEqual(['f0']);
    for (let r = 13; r < 17; r++) await second.service.ingest(round(r, false));
    expect(await second.service.alerts({ state: 'open' })).toEqual([]);
    expect((await second.service.alerts())[0]).toMatchObject({ id: open1!.id, state: 'resolved', resolvedBy: 'detector' });
    await second.close();
  });
});
