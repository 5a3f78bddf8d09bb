// Entropy calibration clips rare outliers that min-max would stretch the 8-bit grid over, and keeps a dense range whole.
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../testing/onnx-fixtures.ts';
import { entropyRange } from './entropy-range.ts';

describe('entropyRange', () => {
  it('clips a few far outliers instead of spending the grid on them', () => {
    const values = new Float32Array(20_010);
    values.set(randomNormal(20_000, 3));
    for (let i = 0; i < 10; i++) values[20_000 + i] = 60 + i;
    const r = entropyRange(values, { min: -5, max: 69 });
    expect(r.max).toBeLessThan(15);
    // The bulk of a unit normal is kept: clipping inside ±3σ would distort most values.
    expect(r.max).toBeGreaterThan(3);
    expect(r.min).toBe(-5);
  });

  it('keeps nearly the whole range of values spread evenly over it', () => {
    const values = Float32Array.from({ length: 50_000 }, (_, i) => (i % 1000) / 999);
    const r = entropyRange(values, { min: 0, max: 1 });
    expect(r.max).toBeGreaterThan(0.95);
    expect(r.min).toBe(0);
  });

  it('returns the observed range for all-zero activations', () => {
    expect(entropyRange(new Float32Array(100), { min: 0, max: 0 })).toEqual({ min: 0, max: 0 });
  });
});
