// Histogramming live values on a reference profile's bins, the same way on device and server (SPEC §4.6).
import type { FeatureProfile } from './manifest/types.ts';

/**
 * Bin of `value` among `edges` (k+1 strictly increasing edges → k bins): bin i holds
 * edges[i] ≤ value < edges[i+1]; values below edges[0] go to bin 0 and values at or above the
 * last edge to bin k−1. NaN goes to bin 0 too, so counts always sum to the number of values.
 */
export function binIndex(edges: readonly number[], value: number): number {
  const bins = edges.length - 1;
  if (!(value >= edges[0]!)) return 0;
  if (value >= edges[bins]!) return bins - 1;
  let lo = 0;
  let hi = bins - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Counts of `values` per bin of `feature` (length edges.length − 1). */
export function histogram(feature: Pick<FeatureProfile, 'edges'>, values: Iterable<number>): number[] {
  const counts = new Array<number>(feature.edges.length - 1).fill(0);
  for (const v of values) counts[binIndex(feature.edges, v)]!++;
  return counts;
}
