// The TelemetryStore contract suite: every implementation runs these same cases (see store/sqlite/ and store/postgres/).
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { describe, expect, it } from 'vitest';
import { freshEach } from '../contract-suites/fresh-each.ts';
import type { Alert } from './alert.ts';
import { HOUR_MS } from './rollup.ts';
import type { TelemetryStore, WindowRecord } from './telemetry-store.ts';

const H0 = Date.parse('2026-03-01T10:00:00.000Z');

/** A small hand-made window: numbers chosen so sums are easy to check. */
export function contractWindow(seq: number, startMs: number, over: Partial<TelemetryWindow> = {}): TelemetryWindow {
  return {
    v: 1,
    seq,
    start: new Date(startMs).toISOString(),
    end: new Date(startMs + 60_000).toISOString(),
    model: { name: 'cam', version: '1.0.0', sequence: 1 },
    requests: 10,
    errors: 1,
    latencyMs: { p50: 2, p95: 8, p99: 9, hist: { edges: [0, 5, 10], counts: [7, 3] } },
    predictions: [6, 4],
    confidence: { edges: [0, 0.5, 1], counts: [2, 8] },
    features: { light: [1, 2, 7] },
    feedback: { labelled: 4, correct: 3, byClass: { labelled: [2, 2], correct: [2, 1] } },
    shadow: null,
    dropped: 0,
    ...over,
  };
}

const rec = (deviceId: string, cohorts: string[], window: TelemetryWindow): WindowRecord => ({
  deviceId,
  cohorts,
  window,
  receivedAt: Date.parse(window.end) + 1000,
});

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  cohort: 'north',
  model: 'cam@1.0.0',
  features: [
    { name: 'light', psi: 0.4, js: 0.3, pValue: 1e-9, level: 'alert', peakPsi: 0.5, since: '2026-03-01T10:00:00.000Z', active: true },
  ],
  severity: 'critical',
  since: '2026-03-01T10:00:00.000Z',
  windows: 2,
  state: 'open',
  openedAt: '2026-03-01T10:05:00.000Z',
  updatedAt: '2026-03-01T10:05:00.000Z',
  resolvedAt: null,
  resolvedBy: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ...over,
});

/** Runs the contract against a fresh store from `open` for every case. */
export function telemetryStoreContract(name: string, open: () => Promise<{ store: TelemetryStore; close(): Promise<void> }>): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    const withStore = freshEach(open, (h) => h.store);

    it(
      'stores each (device, seq) once, within a batch and across batches, and rolls up only new windows',
      withStore(async (s) => {
        expect(
          await s.insertWindows([
            rec('d1', ['north'], contractWindow(1, H0)),
            rec('d1', ['north'], contractWindow(1, H0)),
            rec('d2', ['north'], contractWindow(1, H0)),
          ]),
        ).toEqual([true, false, true]);
        expect(
          await s.insertWindows([rec('d1', ['north'], contractWindow(1, H0)), rec('d1', ['north'], contractWindow(2, H0 + 60_000))]),
        ).toEqual([false, true]);
        const [fleet] = await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + HOUR_MS });
        expect(fleet).toMatchObject({ windows: 3, requests: 30, errors: 3 });
        expect(await s.insertWindows([])).toEqual([]);
      }),
    );

    it(
      'rolls up per hour by fleet, cohort, device and model, summing every count',
      withStore(async (s) => {
        await s.insertWindows([
          rec('d1', ['north', 'indoor'], contractWindow(1, H0)),
          rec(
            'd2',
            ['south'],
            contractWindow(1, H0 + 5 * 60_000, {
              features: { light: [0, 0, 10] },
              shadow: { model: { name: 'cam', version: '2.0.0', sequence: 2 }, requests: 10, errors: 0, agreements: 9, latencyP95Ms: 3 },
            }),
          ),
          rec('d1', ['north', 'indoor'], contractWindow(2, H0 + HOUR_MS)),
          rec('d1', ['north', 'indoor'], contractWindow(3, H0 + 2 * 60_000, { model: { name: 'cam', version: '2.0.0', sequence: 2 } })),
        ]);
        const fleet = await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + 2 * HOUR_MS });
        expect(fleet.map((r) => [r.hour - H0, r.model, r.windows])).toEqual([
          [0, 'cam@1.0.0', 2],
          [0, 'cam@2.0.0', 1],
          [HOUR_MS, 'cam@1.0.0', 1],
        ]);
        const first = fleet[0]!;
        expect(first.features).toEqual({ light: [1, 2, 17] });
        expect(first.predictions).toEqual([12, 8]);
        expect(first.latency).toEqual({ edges: [0, 5, 10], counts: [14, 6] });
        expect(first.confidence).toEqual({ edges: [0, 0.5, 1], counts: [4, 16] });
        expect(first.feedback).toEqual({ labelled: 8, correct: 6, byClass: { labelled: [4, 4], correct: [4, 2] } });
        expect(first.shadow).toEqual({ requests: 10, errors: 0, agreements: 9, latencyP95MsWeighted: 30 });
        const north = await s.rollups({ scope: 'cohort', id: 'north', model: 'cam@1.0.0', from: H0, to: H0 + 2 * HOUR_MS });
        expect(north.map((r) => [r.id, r.hour - H0, r.windows])).toEqual([
          ['north', 0, 1],
          ['north', HOUR_MS, 1],
        ]);
        expect((await s.rollups({ scope: 'cohort', id: 'south', from: H0, to: H0 + HOUR_MS }))[0]?.features).toEqual({ light: [0, 0, 10] });
        expect((await s.rollups({ scope: 'device', id: 'd1', from: H0, to: H0 + 2 * HOUR_MS })).map((r) => r.windows)).toEqual([1, 1, 1]);
        expect(await s.rollups({ scope: 'cohort', id: 'nowhere', from: H0, to: H0 + 2 * HOUR_MS })).toEqual([]);
      }),
    );

    it(
      'rolls up by minute for the fleet and each cohort, apart from the hours; minute retention deletes only minutes',
      withStore(async (s) => {
        await s.insertWindows([
          rec('d1', ['north'], contractWindow(1, H0 + 10_000)),
          rec('d2', ['north', 'south'], contractWindow(1, H0 + 50_000)),
          rec('d1', ['north'], contractWindow(2, H0 + 3 * 60_000 + 1)),
        ]);
        const minutes = await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + HOUR_MS, resolution: 'minute' });
        expect(minutes.map((r) => [r.scope, r.hour - H0, r.windows, r.requests])).toEqual([
          ['fleet', 0, 2, 20],
          ['fleet', 3 * 60_000, 1, 10],
        ]);
        expect(
          (await s.rollups({ scope: 'cohort', id: 'south', from: H0, to: H0 + HOUR_MS, resolution: 'minute' })).map((r) => [
            r.hour - H0,
            r.windows,
          ]),
        ).toEqual([[0, 1]]);
        // The hours are as before, and no device gets minute rows.
        expect((await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + HOUR_MS })).map((r) => [r.hour - H0, r.windows])).toEqual([
          [0, 3],
        ]);
        expect(await s.rollups({ scope: 'device', id: 'd1', from: H0, to: H0 + HOUR_MS, resolution: 'minute' })).toEqual([]);
        const r = await s.prune({ windowsBefore: 0, rollupsBefore: 0, minuteRollupsBefore: H0 + 60_000, alertsBefore: 0 });
        expect(r.rollups).toBe(3);
        expect(
          (await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + HOUR_MS, resolution: 'minute' })).map((x) => x.hour - H0),
        ).toEqual([3 * 60_000]);
        expect((await s.rollups({ scope: 'fleet', id: '*', from: H0, to: H0 + HOUR_MS }))[0]?.windows).toBe(3);
      }),
    );

    it(
      'lists the rollups of a set of devices, in chunks beyond any parameter limit',
      withStore(async (s) => {
        const ids = Array.from({ length: 1200 }, (_, i) => `d${i}`);
        await s.insertWindows(
          ids.map((id, i) => rec(id, ['c'], contractWindow(1, H0, i % 2 ? { model: { name: 'cam', version: '2.0.0', sequence: 2 } } : {}))),
        );
        const all = await s.deviceRollups({ deviceIds: [...ids, 'unknown'], from: H0, to: H0 + HOUR_MS });
        expect(all).toHaveLength(1200);
        expect(all[0]).toMatchObject({ scope: 'device', id: 'd0', windows: 1 });
        expect(await s.deviceRollups({ deviceIds: ['d0', 'd1', 'd2'], model: 'cam@2.0.0', from: H0, to: H0 + HOUR_MS })).toEqual([
          expect.objectContaining({ id: 'd1' }),
        ]);
        expect(await s.deviceRollups({ deviceIds: [], from: 0, to: H0 })).toEqual([]);
      }),
    );

    it(
      'sums vectors of different lengths and windows without a model without failing',
      withStore(async (s) => {
        await s.insertWindows([
          rec('d1', ['c'], contractWindow(1, H0, { model: null, predictions: [1, 2, 3], features: { light: [1] } })),
          rec('d1', ['c'], contractWindow(2, H0, { model: null, predictions: [1], features: { light: [1, 1, 1, 1] } })),
        ]);
        const [r] = await s.rollups({ scope: 'device', id: 'd1', from: H0, to: H0 + HOUR_MS });
        expect(r).toMatchObject({ model: '(none)', predictions: [2, 2, 3], features: { light: [2, 1, 1, 1] } });
      }),
    );

    it(
      "lists a device's windows newest first, within a range and a limit",
      withStore(async (s) => {
        await s.insertWindows([1, 2, 3].map((i) => rec('d1', ['c'], contractWindow(i, H0 + i * 60_000))));
        const all = await s.windows({ deviceId: 'd1' });
        expect(all.map((w) => w.window.seq)).toEqual([3, 2, 1]);
        expect(all[0]).toMatchObject({ deviceId: 'd1', cohorts: ['c'], model: 'cam@1.0.0' });
        expect((await s.windows({ deviceId: 'd1', from: H0 + 2 * 60_000, limit: 1 })).map((w) => w.window.seq)).toEqual([3]);
        expect(await s.windows({ deviceId: 'd9' })).toEqual([]);
      }),
    );

    it(
      'retention deletes old windows, rollups and resolved alerts, and nothing newer',
      withStore(async (s) => {
        await s.insertWindows([rec('d1', ['c'], contractWindow(1, H0)), rec('d1', ['c'], contractWindow(2, H0 + 2 * HOUR_MS))]);
        await s.putAlert(alert('old', { state: 'resolved', updatedAt: '2026-03-01T10:00:00.000Z' }));
        await s.putAlert(alert('open', { updatedAt: '2026-03-01T10:00:00.000Z' }));
        const r = await s.prune({
          windowsBefore: H0 + HOUR_MS,
          rollupsBefore: H0 + HOUR_MS,
          alertsBefore: Date.parse('2026-03-02T00:00:00Z'),
        });
        // The hour of the fleet, cohort and device, and the minute of the fleet and cohort.
        expect(r).toEqual({ windows: 1, rollups: 5, alerts: 1 });
        expect((await s.windows({ deviceId: 'd1' })).map((w) => w.window.seq)).toEqual([2]);
        expect((await s.rollups({ scope: 'fleet', id: '*', from: 0, to: H0 + 3 * HOUR_MS })).map((x) => x.hour)).toEqual([
          H0 + 2 * HOUR_MS,
        ]);
        expect((await s.listAlerts()).map((a) => a.id)).toEqual(['open']);
      }),
    );

    it(
      'alerts: replaced by id, listed newest first with filters',
      withStore(async (s) => {
        await s.putAlert(alert('a1'));
        await s.putAlert(alert('a2', { cohort: 'south', openedAt: '2026-03-01T11:00:00.000Z' }));
        await s.putAlert(alert('a1', { state: 'resolved', resolvedBy: 'detector', updatedAt: '2026-03-01T12:00:00.000Z' }));
        expect((await s.getAlert('a1'))?.state).toBe('resolved');
        expect(await s.getAlert('nope')).toBeNull();
        expect((await s.listAlerts()).map((a) => a.id)).toEqual(['a2', 'a1']);
        expect((await s.listAlerts({ state: 'open' })).map((a) => a.id)).toEqual(['a2']);
        expect((await s.listAlerts({ cohort: 'north', model: 'cam@1.0.0' })).map((a) => a.id)).toEqual(['a1']);
        expect(await s.listAlerts({ limit: 1 })).toHaveLength(1);
      }),
    );

    it(
      'references: replaced by model key',
      withStore(async (s) => {
        const ref = { features: [{ name: 'light', edges: [0, 1, 2], frequencies: [0.5, 0.5] }] };
        await s.putReference('cam@1.0.0', ref);
        await s.putReference('cam@1.0.0', { ...ref, labels: ['a', 'b'] });
        expect(await s.listReferences()).toEqual([{ model: 'cam@1.0.0', reference: { ...ref, labels: ['a', 'b'] } }]);
      }),
    );
  });
}
