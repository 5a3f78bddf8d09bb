// Metric time series from rollups (hourly, or by minute for the last hours): volumes, latency percentiles,
// distributions, drift and accuracy.
import { jensenShannon, psi, sum } from './drift-metrics.ts';
import { histogramMean, histogramQuantile, type Histogram } from './histogram.ts';
import type { ModelReference } from './model-reference.ts';
import { estimatedAccuracy, fieldAccuracy, type Estimate } from './performance-estimate.ts';
import { addCounts, emptyCounts, HOUR_MS, MINUTE_MS, type Rollup, type RollupCounts } from './rollup.ts';

export const METRICS = [
  'requests',
  'errors',
  'latency',
  'predictions',
  'confidence',
  'drift',
  'estimatedAccuracy',
  'fieldAccuracy',
  'shadow',
] as const;
export type Metric = (typeof METRICS)[number];
export const BUCKETS = ['minute', 'hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];
export const BUCKET_MS: Record<Bucket, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: 24 * HOUR_MS };
/** Longest range a minute series may cover (minute rollups are kept 48 h; 360 points is plenty for a chart). */
export const MAX_MINUTE_RANGE_MS = 6 * HOUR_MS;

export interface DriftPoint {
  psi: number;
  js: number;
  n: number;
}

/** One bucket of one model. Only the requested metrics are present. */
export interface SeriesPoint {
  /** Bucket start (ISO 8601, UTC). */
  t: string;
  windows: number;
  requests?: number;
  errors?: { count: number; rate: number | null };
  /** Milliseconds, interpolated from the merged latency histograms. */
  latency?: { p50: number | null; p95: number | null; p99: number | null };
  predictions?: { counts: number[]; shares: number[]; labels: string[] | null };
  confidence?: { mean: number | null; histogram: Histogram | null };
  /** Per stream (features, `@prediction`, `@confidence` when the reference has them): PSI and JS against the reference. */
  drift?: Record<string, DriftPoint>;
  estimatedAccuracy?: Estimate | null;
  fieldAccuracy?: { overall: Estimate | null; byClass: (Estimate | null)[] | null };
  /** `latencyP95Ms`: request-weighted mean of the windows' shadow p95. */
  shadow?: { requests: number; errors: number; agreementRate: number | null; latencyP95Ms: number | null };
}

export interface Series {
  model: string;
  points: SeriesPoint[];
}

function driftOf(c: RollupCounts, ref: ModelReference, epsilon: number): Record<string, DriftPoint> {
  const out: Record<string, DriftPoint> = {};
  const add = (name: string, counts: readonly number[], freq: readonly number[]) => {
    if (counts.length !== freq.length || sum(counts) === 0) return;
    out[name] = { psi: psi(counts, freq, epsilon), js: jensenShannon(counts, freq), n: sum(counts) };
  };
  for (const f of ref.features) {
    const counts = c.features[f.name];
    if (counts) add(f.name, counts, f.frequencies);
  }
  if (ref.predictions) add('@prediction', c.predictions, ref.predictions);
  if (ref.confidence && c.confidence && c.confidence.edges.join() === ref.confidence.edges.join())
    add('@confidence', c.confidence.counts, ref.confidence.frequencies);
  return out;
}

function point(t: number, c: RollupCounts, metrics: ReadonlySet<Metric>, ref: ModelReference | undefined, epsilon: number): SeriesPoint {
  const p: SeriesPoint = { t: new Date(t).toISOString(), windows: c.windows };
  if (metrics.has('requests')) p.requests = c.requests;
  if (metrics.has('errors')) p.errors = { count: c.errors, rate: c.requests > 0 ? c.errors / c.requests : null };
  if (metrics.has('latency')) {
    const h = c.latency;
    p.latency = h
      ? { p50: histogramQuantile(h, 0.5), p95: histogramQuantile(h, 0.95), p99: histogramQuantile(h, 0.99) }
      : { p50: null, p95: null, p99: null };
  }
  if (metrics.has('predictions')) {
    const total = sum(c.predictions);
    p.predictions = { counts: c.predictions, shares: c.predictions.map((x) => (total > 0 ? x / total : 0)), labels: ref?.labels ?? null };
  }
  if (metrics.has('confidence'))
    p.confidence = { mean: c.confidence ? (histogramMean(c.confidence)?.mean ?? null) : null, histogram: c.confidence };
  if (metrics.has('drift')) p.drift = ref ? driftOf(c, ref, epsilon) : {};
  if (metrics.has('estimatedAccuracy')) p.estimatedAccuracy = c.confidence ? estimatedAccuracy(c.confidence) : null;
  if (metrics.has('fieldAccuracy')) p.fieldAccuracy = fieldAccuracy(c.feedback);
  if (metrics.has('shadow')) {
    const n = c.shadow.requests;
    p.shadow = {
      requests: n,
      errors: c.shadow.errors,
      agreementRate: n > 0 ? c.shadow.agreements / n : null,
      latencyP95Ms: n > 0 ? c.shadow.latencyP95MsWeighted / n : null,
    };
  }
  return p;
}

/**
 * Turns rollups into one series per model, summed into `bucket`s (UTC minutes, hours or days), with the
 * requested metrics. Drift compares each bucket's counts with the model's reference (PSI smoothing `epsilon`).
 */
export function buildSeries(
  rollups: readonly Rollup[],
  o: { bucket: Bucket; metrics: readonly Metric[]; reference: (model: string) => ModelReference | undefined; epsilon?: number },
): Series[] {
  const size = BUCKET_MS[o.bucket];
  const byModel = new Map<string, Map<number, RollupCounts>>();
  for (const r of rollups) {
    let buckets = byModel.get(r.model);
    if (!buckets) byModel.set(r.model, (buckets = new Map()));
    const t = Math.floor(r.hour / size) * size;
    let acc = buckets.get(t);
    if (!acc) buckets.set(t, (acc = emptyCounts()));
    addCounts(acc, r);
  }
  const metrics = new Set(o.metrics);
  return [...byModel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, buckets]) => ({
      model,
      points: [...buckets.entries()].sort(([a], [b]) => a - b).map(([t, c]) => point(t, c, metrics, o.reference(model), o.epsilon ?? 1e-4)),
    }));
}
