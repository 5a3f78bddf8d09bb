// The detector's rules one at a time: pooling, hysteresis, effect-size gate, baselines, bad input, restore.
import { describe, expect, it } from 'vitest';
import { CONFIDENCE_STREAM, DriftDetector, PREDICTION_STREAM, type DetectorWindow } from './drift-detector.ts';
import type { ModelReference } from './model-reference.ts';
import { MonitoringError } from './monitoring-error.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { multinomial, snowShift } from './telemetry-sim.ts';

const FREQ = [0.1, 0.2, 0.3, 0.2, 0.1, 0.1];
const ref: ModelReference = {
  features: [
    { name: 'light', edges: [0, 1, 2, 3, 4, 5, 6], frequencies: FREQ },
    { name: 'motion', edges: [0, 1, 2, 3, 4, 5, 6], frequencies: FREQ },
  ],
};
const T0 = Date.parse('2026-03-01T00:00:00Z');
const MODEL = 'cam@1.0.0';

function detector(over = {}) {
  let n = 0;
  const d = new DriftDetector(
    over,
    () => `a${++n}`,
    () => new Date(T0),
  );
  d.setReference(MODEL, ref);
  return d;
}

function win(rng: () => number, i: number, n: number, lightShift = 0, cohort = 'north'): DetectorWindow {
  return {
    cohort,
    model: MODEL,
    start: T0 + i * 60_000,
    end: T0 + (i + 1) * 60_000,
    features: { light: multinomial(rng, n, snowShift(FREQ, lightShift)), motion: multinomial(rng, n, FREQ) },
  };
}

describe('DriftDetector', () => {
  it('raises after 2 breaching windows, names the feature and since when, clears after 3 clean ones', () => {
    const d = detector();
    const rng = seededRandom(1);
    expect(d.observe(win(rng, 0, 500))).toEqual([]);
    expect(d.evaluate()).toEqual([]);
    d.observe(win(rng, 1, 500, 0.5));
    expect(d.evaluate()).toEqual([]);
    d.observe(win(rng, 2, 500, 0.5));
    const [raised] = d.evaluate();
    expect(raised?.type).toBe('raised');
    expect(raised?.alert).toMatchObject({
      id: 'a1',
      cohort: 'north',
      model: MODEL,
      severity: 'critical',
      state: 'open',
      since: new Date(T0 + 60_000).toISOString(),
      windows: 2,
    });
    expect(raised?.alert.features.map((f) => f.name)).toEqual(['light']);
    expect(raised?.alert.features[0]!.psi).toBeGreaterThan(0.25);
    const types: string[] = [];
    for (let i = 3; i < 6; i++) {
      d.observe(win(rng, i, 500));
      types.push(...d.evaluate().map((c) => c.type));
    }
    expect(types).toEqual(['updated', 'updated', 'resolved']);
    expect(d.openAlerts()).toEqual([]);
  });

  it('pools small windows until they hold minSamples observations', () => {
    const d = detector({ minSamples: 200 });
    const rng = seededRandom(2);
    for (let i = 0; i < 3; i++) d.observe(win(rng, i, 60));
    expect(d.waiting).toBe(0);
    expect(d.status({ cohort: 'north' }).find((s) => s.stream === 'light')?.pending).toBe(180);
    d.observe(win(rng, 3, 60));
    expect(d.waiting).toBe(2);
    d.evaluate();
    const light = d.status().find((s) => s.stream === 'light')!;
    expect(light).toMatchObject({ windowsTested: 1, pending: 0, level: 'ok', against: 'reference' });
  });

  it('a significant but tiny shift in a huge window stays below the PSI gate', () => {
    const d = detector();
    const rng = seededRandom(3);
    for (let i = 0; i < 5; i++) d.observe(win(rng, i, 200_000, 0.04));
    expect(d.evaluate()).toEqual([]);
    const light = d.status().find((s) => s.stream === 'light')!;
    expect(light.pValue!).toBeLessThan(1e-6);
    expect(light.psi!).toBeLessThan(0.1);
    expect(light.level).toBe('ok');
  });

  it('counts mismatched and unknown features as issues instead of failing', () => {
    const d = detector();
    const issues = d.observe({ cohort: 'c', model: MODEL, start: T0, end: T0, features: { light: [1, 2, 3], speed: [1] } });
    expect(issues).toEqual([
      { stream: 'light', reason: 'bin_count_mismatch' },
      { stream: 'speed', reason: 'unknown_feature' },
    ]);
    expect(d.observe({ cohort: 'c', model: 'other@1', start: T0, end: T0, features: { light: [1] } })).toEqual([
      { stream: 'light', reason: 'no_reference' },
    ]);
    expect(() => d.setReference('bad@1', { features: [{ name: 'x', edges: [0, 1], frequencies: [0.5, 0.5] }] })).toThrow(MonitoringError);
  });

  it('learns prediction and confidence baselines when the reference has none, then detects a move in them', () => {
    const d = detector({ baselineSamples: 1000 });
    const rng = seededRandom(4);
    const edges = [0, 0.25, 0.5, 0.75, 1];
    const out = (i: number, classes: number[]): DetectorWindow => ({
      cohort: 'c',
      model: MODEL,
      start: T0 + i * 60_000,
      end: T0 + (i + 1) * 60_000,
      features: {},
      predictions: multinomial(rng, 500, classes),
      confidence: { edges, counts: multinomial(rng, 500, [0.05, 0.1, 0.25, 0.6]) },
    });
    d.observe(out(0, [0.5, 0.3, 0.2]));
    expect(d.status().map((s) => s.against)).toEqual(['learning', 'learning']);
    d.observe(out(1, [0.5, 0.3, 0.2]));
    expect(d.status().map((s) => s.against)).toEqual(['baseline', 'baseline']);
    const changes = [];
    for (let i = 2; i < 8; i++) {
      d.observe(out(i, i < 5 ? [0.5, 0.3, 0.2] : [0.1, 0.3, 0.6]));
      changes.push(...d.evaluate());
    }
    expect(changes.filter((c) => c.type === 'raised').map((c) => c.alert.features.map((f) => f.name))).toEqual([[PREDICTION_STREAM]]);
    expect(d.status().find((s) => s.stream === CONFIDENCE_STREAM)).toMatchObject({ against: 'baseline', alerting: false });
    // A confidence histogram on other edges than the reference's is refused, not mixed in.
    d.setReference(MODEL, { ...ref, confidence: { edges: [0, 0.5, 1], frequencies: [0.2, 0.8] } });
    expect(d.observe(out(9, [0.5, 0.3, 0.2]))).toContainEqual({ stream: CONFIDENCE_STREAM, reason: 'edges_mismatch' });
  });

  it('resolves by hand, and restores open alerts after a restart', () => {
    const d = detector();
    const rng = seededRandom(5);
    for (let i = 0; i < 3; i++) d.observe(win(rng, i, 500, 0.5));
    d.evaluate();
    const [open] = d.openAlerts();
    expect(open).toBeDefined();

    const again = detector();
    again.restore([open!]);
    expect(again.openAlerts().map((a) => a.id)).toEqual([open!.id]);
    const types: string[] = [];
    for (let i = 0; i < 3; i++) {
      again.observe(win(rng, 10 + i, 500));
      types.push(...again.evaluate().map((c) => c.type));
    }
    expect(types).toEqual(['updated', 'updated', 'resolved']);

    const manual = d.resolve(open!.id, 'tok_ops');
    expect(manual).toMatchObject({ state: 'resolved', resolvedBy: 'tok_ops' });
    expect(d.resolve(open!.id, 'tok_ops')).toBeNull();
    d.observe(win(rng, 20, 500, 0.5));
    expect(d.evaluate()).toEqual([]);
    d.observe(win(rng, 21, 500, 0.5));
    expect(d.evaluate()[0]?.type).toBe('raised');
  });

  it('forgets cohorts idle for 7 days that have no open alert', () => {
    let now = T0;
    const d = new DriftDetector({}, undefined, () => new Date(now));
    d.setReference(MODEL, ref);
    const rng = seededRandom(6);
    d.observe(win(rng, 0, 300, 0, 'old'));
    d.evaluate();
    now += 8 * 24 * 3_600_000;
    d.observe(win(rng, 1, 300, 0, 'new'));
    d.evaluate();
    expect([...new Set(d.status().map((s) => s.cohort))]).toEqual(['new']);
  });
});
