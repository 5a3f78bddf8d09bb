// Reference-profile binning is the same rule on device and server (SPEC §4.6).
import { describe, expect, it } from 'vitest';
import { binIndex, histogram } from './profile.ts';

describe('binIndex [SPEC §4.6]', () => {
  const edges = [-2, -1, 0, 1, 2];
  it('puts each value in the half-open bin [edge_i, edge_i+1), clamping the ends', () => {
    expect([-5, -2, -1.5, -1, 0, 0.999, 1, 2, 7].map((v) => binIndex(edges, v))).toEqual([0, 0, 0, 1, 2, 2, 3, 3, 3]);
  });
  it('sends NaN to bin 0 so counts always sum to the number of values', () => {
    expect(binIndex(edges, NaN)).toBe(0);
    expect(histogram({ edges }, [NaN, -3, 0.5, 9, 1.5])).toEqual([2, 0, 1, 2]);
  });
});
