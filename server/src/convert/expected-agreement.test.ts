// The agreement a candidate is expected to reach on unseen rows, from the calibration rows' margins and its errors.
import { describe, expect, it } from 'vitest';
import { expectedAgreement } from './expected-agreement.ts';

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

  it('sees the flips the next rows will show from margins crowding near zero, although no calibration row is at risk', () => {
    // 32 rows with margins 1, 2, …, 32 and an error spread of 0.14 on each: every row is seven or more spreads from its
    // boundary (per-row risk below 1e-12), but margins are spread at density 1/32 per unit from zero, so unseen rows with
    // margins below 0.14 will come, about 0.14/√(2π)/32 ≈ 0.18% of them flipping.
    const rows = 32;
    const f = new Float32Array(rows * 2);
    const q = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      f.set([r + 1, 0], r * 2);
      q.set([r + 1 + 0.1, 0.1 * (r % 2 ? 1 : -1)], r * 2);
    }
    const a = expectedAgreement(f, q, 2);
    expect(1 - a).toBeGreaterThan(0.0008);
    expect(1 - a).toBeLessThan(0.002);
  });
});
