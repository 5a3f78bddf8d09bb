// The agreement a candidate is expected to reach on unseen rows, from the calibration rows' margins and its errors.
import { describe, expect, it } from 'vitest';
import { expectedAgreement } from './margin-agreement.ts';

describe('expected top-1 agreement from margins', () => {
  it('is 1 when the candidate computes exactly what float does', () => {
    const f = Float32Array.of(3, 1, 0, 0.5, 2, 1);
    expect(expectedAgreement(f, f.slice(), 3)).toBe(1);
  });

  it('counts a tied row as a coin flip and a row far from its decision boundary as safe', () => {
    // Row 0: classes 0 and 1 tied, any error flips it half the time. Row 1: a margin of 10 against an error of 0.01.
    const f = Float32Array.of(1, 1, 0, 10, 0, 0);
    const q = Float32Array.of(1.01, 0.99, 0, 10.01, 0, -0.01);
    expect(expectedAgreement(f, q, 3)).toBeCloseTo(0.75, 3);
  });

  it('falls as the error grows against the same margins, although every row still agrees', () => {
    const f = Float32Array.of(1, 0.9, 0, 1, 0.8, 0);
    const small = Float32Array.of(1.01, 0.9, 0, 1.01, 0.8, 0);
    const large = Float32Array.of(1.05, 0.94, 0.05, 1.05, 0.84, 0.05);
    const [a, b] = [expectedAgreement(f, small, 3), expectedAgreement(f, large, 3)];
    expect(a).toBeGreaterThan(0.999);
    expect(b).toBeLessThan(a);
    expect(b).toBeLessThan(0.99);
  });
});
