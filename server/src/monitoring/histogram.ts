// Fixed-bin histograms as agents send them (latency, confidence): merging, quantiles and means.

/** `edges` has one more entry than `counts`; bin i holds values in [edges[i], edges[i+1]). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the histogram has k ≥ 1 bins, k+1 strictly increasing finite edges and non-negative counts. */
export function isValidHistogram(h: Histogram): boolean {
  if (h.counts.length === 0) return h.edges.length <= 1;
  if (h.edges.length !== h.counts.length + 1) return false;
  for (let i = 0; i < h.edges.length; i++) {
    if (!Number.isFinite(h.edges[i]!) || (i > 0 && !(h.edges[i]! > h.edges[i - 1]!))) return false;
  }
  return h.counts.every((c) => c >= 0);
}

/**
 * Adds `src` into `into` (returned; a copy of `src` when `into` is null or empty). Histograms on other
 * edges are re-binned: each source bin's count goes to the target bin holding its midpoint, which is
 * exact for equal layouts and keeps totals for different ones.
 */
export function mergeHistogram(into: Histogram | null, src: Histogram): Histogram {
  if (src.counts.length === 0) return into ?? { edges: src.edges.slice(), counts: [] };
  if (!into || into.counts.length === 0) return { edges: src.edges.slice(), counts: src.counts.slice() };
  if (sameEdges(into.edges, src.edges)) {
    for (let i = 0; i < src.counts.length; i++) into.counts[i]! += src.counts[i]!;
    return into;
  }
  for (let i = 0; i < src.counts.length; i++) {
    const mid = (src.edges[i]! + src.edges[i + 1]!) / 2;
    into.counts[binOf(into.edges, mid)]! += src.counts[i]!;
  }
  return into;
}

function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export const histogramTotal = (h: Histogram): number => h.counts.reduce((a, b) => a + b, 0);

/** The q-quantile (0-1), interpolated linearly inside its bin; null when the histogram is empty. */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const n = histogramTotal(h);
  if (n === 0) return null;
  const target = Math.min(1, Math.max(0, q)) * n;
  let acc = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c > 0 && acc + c >= target) {
      const frac = (target - acc) / c;
      return h.edges[i]! + frac * (h.edges[i + 1]! - h.edges[i]!);
    }
    acc += c;
  }
  return h.edges[h.edges.length - 1]!;
}

/** Mean with every value at its bin's midpoint, plus the bounds from putting them all at lower or upper edges. */
export function histogramMean(h: Histogram): { mean: number; low: number; high: number } | null {
  const n = histogramTotal(h);
  if (n === 0) return null;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < h.counts.length; i++) {
    lo += h.counts[i]! * h.edges[i]!;
    hi += h.counts[i]! * h.edges[i + 1]!;
  }
  return { mean: (lo + hi) / (2 * n), low: lo / n, high: hi / n };
}
