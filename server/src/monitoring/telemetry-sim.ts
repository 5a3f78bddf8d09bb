// Seeded synthetic telemetry for the statistical tests and the benchmark: windows drawn from a reference.
import type { FeatureProfile } from '@flotilla/firmware-bundler';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { ModelReference } from './model-reference.ts';

/** `n` draws from the categorical distribution `p` (shares summing to 1), as counts per category. */
export function multinomial(rng: () => number, n: number, p: readonly number[]): number[] {
  const cdf: number[] = [];
  let acc = 0;
  for (const x of p) cdf.push((acc += x));
  const counts = new Array<number>(p.length).fill(0);
  for (let i = 0; i < n; i++) {
    const u = rng() * acc;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/** Moves `fraction` of the mass to the top two bins: what snow does to a camera's brightness features. */
export function snowShift(frequencies: readonly number[], fraction: number): number[] {
  const k = frequencies.length;
  return frequencies.map((f, i) => (1 - fraction) * f + (i >= k - 2 ? fraction / 2 : 0));
}

/**
 * A reference of `features` features on `bins` bins with varied shapes (bell, skewed, and a rare tail bin
 * of 0.5 % so sparse bins are exercised), 4 classes and a 10-bin confidence histogram.
 */
export function simulatedReference(rng: () => number, features = 10, bins = 10): ModelReference {
  const profiles: FeatureProfile[] = [];
  for (let f = 0; f < features; f++) {
    const centre = 2 + rng() * (bins - 4);
    const width = 1 + rng() * 2;
    const raw = Array.from({ length: bins }, (_, i) => Math.exp(-(((i - centre) / width) ** 2) / 2) + 0.01);
    raw[bins - 1] = 0;
    const total = raw.reduce((a, b) => a + b, 0);
    const frequencies = raw.map((x) => (x / total) * 0.995);
    frequencies[bins - 1] = 0.005;
    profiles.push({ name: `f${f}`, edges: Array.from({ length: bins + 1 }, (_, i) => i), frequencies, count: 60_000 });
  }
  return {
    features: profiles,
    labels: ['a', 'b', 'c', 'd'],
    predictions: [0.4, 0.3, 0.2, 0.1],
    confidence: { edges: CONFIDENCE_EDGES, frequencies: [0, 0, 0, 0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.45] },
  };
}

export const CONFIDENCE_EDGES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const LATENCY_EDGES = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
const LATENCY_SHARES = [0.05, 0.3, 0.4, 0.15, 0.06, 0.03, 0.01, 0, 0, 0];

export interface SimWindowOptions {
  seq: number;
  start: Date;
  windowSec?: number;
  requests: number;
  model?: { name: string; version: string; sequence: number };
  /** Fraction of each listed feature's mass moved to its top bins (snowShift). */
  shift?: { features: string[]; fraction: number };
  /** Share of requests that get a feedback label (default 0.05) and the share of those that are correct (0.9). */
  feedback?: { labelledShare: number; accuracy: number };
}

function percentile(edges: readonly number[], counts: readonly number[], q: number): number {
  const n = counts.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc >= q * n && n > 0) return edges[i + 1]!;
  }
  return 0;
}

/** One window as an agent would send it, with every distribution drawn from `ref` (and `shift` applied). */
export function simulateWindow(rng: () => number, ref: ModelReference, o: SimWindowOptions): TelemetryWindow {
  const n = o.requests;
  const features: Record<string, number[]> = {};
  for (const f of ref.features) {
    const p = o.shift?.features.includes(f.name) ? snowShift(f.frequencies, o.shift.fraction) : f.frequencies;
    features[f.name] = multinomial(rng, n, p);
  }
  const latency = multinomial(rng, n, LATENCY_SHARES);
  const fb = o.feedback ?? { labelledShare: 0.05, accuracy: 0.9 };
  const labelled = multinomial(rng, n, [fb.labelledShare, 1 - fb.labelledShare])[0]!;
  const correct = multinomial(rng, labelled, [fb.accuracy, 1 - fb.accuracy])[0]!;
  const windowSec = o.windowSec ?? 60;
  return {
    v: 1,
    seq: o.seq,
    start: o.start.toISOString(),
    end: new Date(o.start.getTime() + windowSec * 1000).toISOString(),
    model: o.model ?? { name: 'cam', version: '1.0.0', sequence: 1 },
    requests: n,
    errors: multinomial(rng, n, [0.001, 0.999])[0]!,
    latencyMs: {
      p50: percentile(LATENCY_EDGES, latency, 0.5),
      p95: percentile(LATENCY_EDGES, latency, 0.95),
      p99: percentile(LATENCY_EDGES, latency, 0.99),
      hist: { edges: LATENCY_EDGES, counts: latency },
    },
    predictions: multinomial(rng, n, ref.predictions ?? [1]),
    confidence: {
      edges: ref.confidence?.edges ?? CONFIDENCE_EDGES,
      counts: multinomial(rng, n, ref.confidence?.frequencies ?? [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    },
    features,
    feedback: { labelled, correct },
    shadow: null,
    dropped: 0,
  };
}
