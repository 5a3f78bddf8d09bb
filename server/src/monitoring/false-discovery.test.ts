// Benjamini-Hochberg step-up on a worked example, and the family size standing in for untested streams.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg } from './false-discovery.ts';

describe('benjaminiHochberg', () => {
  it('steps up: the largest rank under its line takes every smaller p-value with it', () => {
    // q = 0.05, m = 5: lines 0.01, 0.02, 0.03, 0.04, 0.05. Rank 3 (0.028 ≤ 0.03) is the largest under; rank 2 (0.021 > 0.02) comes along.
    expect(benjaminiHochberg([0.045, 0.001, 0.028, 0.5, 0.021], 0.05)).toEqual([false, true, true, false, true]);
  });

  it('a larger family (untested streams as p = 1) makes it stricter', () => {
    expect(benjaminiHochberg([0.004, 0.3], 0.01)).toEqual([true, false]);
    expect(benjaminiHochberg([0.004, 0.3], 0.01, 100)).toEqual([false, false]);
    expect(benjaminiHochberg([], 0.01)).toEqual([]);
  });
});

describe('benjaminiHochberg against the textbook procedure', () => {
  it('agrees with a full sort on random families', () => {
    const naive = (ps: number[], q: number, m: number) => {
      const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
      let cut = -1;
      order.forEach(([p], r) => {
        if (p <= ((r + 1) * q) / m) cut = r;
      });
      const out = ps.map(() => false);
      for (let r = 0; r <= cut; r++) out[order[r]![1]] = true;
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
        fc.double({ min: 0.001, max: 0.3, noNaN: true }),
        fc.nat(100),
        (ps, q, extra) => {
          expect(benjaminiHochberg(ps, q, ps.length + extra)).toEqual(naive(ps, q, ps.length + extra));
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});
