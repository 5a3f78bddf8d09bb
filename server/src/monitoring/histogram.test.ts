// Histogram merging (same and different edges), quantiles and means.
import { describe, expect, it } from 'vitest';
import { histogramMean, histogramQuantile, isValidHistogram, mergeHistogram } from './histogram.ts';

describe('histogram', () => {
  it('adds counts on equal edges and re-bins by midpoint on other edges, keeping the total', () => {
    const a = mergeHistogram(null, { edges: [0, 10, 20], counts: [1, 2] });
    mergeHistogram(a, { edges: [0, 10, 20], counts: [3, 4] });
    expect(a.counts).toEqual([4, 6]);
    mergeHistogram(a, { edges: [0, 5, 15, 100], counts: [1, 1, 1] });
    // Midpoints 2.5 → bin 0, 10 → bin 1, 57.5 → beyond the last edge, so the last bin.
    expect(a.counts).toEqual([5, 8]);
    expect(mergeHistogram(null, { edges: [], counts: [] }).counts).toEqual([]);
  });

  it('interpolates quantiles inside the bin and gives null for no data', () => {
    const h = { edges: [0, 10, 20, 30], counts: [50, 40, 10] };
    expect(histogramQuantile(h, 0.5)).toBe(10);
    expect(histogramQuantile(h, 0.7)).toBe(15);
    expect(histogramQuantile(h, 0.95)).toBe(25);
    expect(histogramQuantile({ edges: [0, 1], counts: [0] }, 0.5)).toBeNull();
  });

  it('means at bin midpoints, bounded by the edges', () => {
    expect(histogramMean({ edges: [0, 0.5, 1], counts: [1, 3] })).toEqual({ mean: 0.625, low: 0.375, high: 0.875 });
    expect(histogramMean({ edges: [0, 1], counts: [0] })).toBeNull();
  });

  it('validates the shape', () => {
    expect(isValidHistogram({ edges: [0, 1, 2], counts: [1, 1] })).toBe(true);
    expect(isValidHistogram({ edges: [0, 1], counts: [1, 1] })).toBe(false);
    expect(isValidHistogram({ edges: [0, 2, 1], counts: [1, 1] })).toBe(false);
    expect(isValidHistogram({ edges: [], counts: [] })).toBe(true);
  });
});
