// PSI, Jensen-Shannon and chi-square on count vectors, checked against values worked out by hand.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  jensenShannon,
  prepareReference,
  psi,
  scoreAgainstReference,
  scorePrepared,
  shares,
} from './drift-metrics.ts';
import { MonitoringError } from './monitoring-error.ts';

describe('psi', () => {
  it('equals Σ(p−q)ln(p/q): 30/70 against 50/50 is 0.2·ln(1/0.6) + 0.2·ln(1.4)', () => {
    const hand = 0.2 * Math.log(1 / 0.6) + 0.2 * Math.log(1.4);
    expect(psi([30, 70], [0.5, 0.5], 0)).toBeCloseTo(hand, 12);
    expect(psi([30, 70], [0.5, 0.5])).toBeCloseTo(hand, 3);
    expect(psi([25, 25], [0.5, 0.5])).toBe(0);
  });

  it('smoothing keeps an empty bin finite: all mass in one of two bins', () => {
    // p = (1+ε)/(1+2ε), q = 0.5 ... ; the empty side contributes (ε/(1+2ε) − 0.5)·ln(ε/(0.5+ε)).
    const e = 1e-4;
    const p0 = (1 + e) / (1 + 2 * e);
    const p1 = e / (1 + 2 * e);
    const hand = (p0 - 0.5) * Math.log(p0 / 0.5) + (p1 - 0.5) * Math.log(p1 / 0.5);
    expect(psi([100, 0], [0.5, 0.5])).toBeCloseTo(hand, 12);
    expect(Number.isFinite(psi([100, 0], [1, 0]))).toBe(true);
  });

  it('is 0 for no observations and refuses mismatched or negative bins with a code', () => {
    expect(psi([0, 0], [0.5, 0.5])).toBe(0);
    expect(() => psi([1, 2, 3], [0.5, 0.5])).toThrow(MonitoringError);
    try {
      psi([1, -2], [0.5, 0.5]);
    } catch (e) {
      expect((e as MonitoringError).code).toBe('INVALID_COUNTS');
    }
  });
});

describe('jensenShannon', () => {
  it('is 0 for equal and 1 for disjoint distributions', () => {
    expect(jensenShannon([5, 5], [0.5, 0.5])).toBe(0);
    expect(jensenShannon([10, 0], [0, 1])).toBeCloseTo(1, 12);
  });

  it('matches the hand-computed distance for 30/70 against 50/50', () => {
    // m = (0.4, 0.6); JSD = ½[0.3·log2(0.75) + 0.7·log2(7/6)] + ½[0.5·log2(1.25) + 0.5·log2(5/6)].
    const jsd = 0.5 * (0.3 * Math.log2(0.75) + 0.7 * Math.log2(7 / 6)) + 0.5 * (0.5 * Math.log2(1.25) + 0.5 * Math.log2(5 / 6));
    expect(jensenShannon([30, 70], [0.5, 0.5])).toBeCloseTo(Math.sqrt(jsd), 12);
    expect(jensenShannon([30, 70], [0.5, 0.5])).toBeCloseTo(0.174084, 5);
  });
});

describe('chi-square', () => {
  it('goodness of fit: 30/70 against 50/50 is χ² = 16 on 1 dof', () => {
    const r = chiSquareGoodnessOfFit([30, 70], [0.5, 0.5]);
    expect(r.statistic).toBeCloseTo(16, 12);
    expect(r.dof).toBe(1);
    expect(r.pValue).toBeCloseTo(6.334248e-5, 9);
  });

  it('pools adjacent bins until each expects 5 observations, absorbing rare bins', () => {
    // Expected counts 0.1, 0.9, 9, 90 → cells {0,1,2} (10 expected, 10 seen) and {3} (90, 90).
    const r = chiSquareGoodnessOfFit([0, 0, 10, 90], [0.001, 0.009, 0.09, 0.9]);
    expect(r).toEqual({ statistic: 0, dof: 1, pValue: 1 });
    // A short tail joins the cell before it: 4 bins of 2.5 expected → 2 cells of 5.
    expect(chiSquareGoodnessOfFit([5, 0, 5, 0], [0.25, 0.25, 0.25, 0.25]).dof).toBe(1);
    // Too few observations for two cells: nothing to test.
    expect(chiSquareGoodnessOfFit([1, 2], [0.5, 0.5])).toEqual({ statistic: 0, dof: 0, pValue: 1 });
  });

  it('mass in a bin the reference never saw is infinitely unlikely when that bin stands alone', () => {
    const r = chiSquareGoodnessOfFit([50, 50], [1, 0], 0);
    expect(r.statistic).toBe(Infinity);
    expect(r.pValue).toBe(0);
  });

  it('homogeneity: 10/20 against 20/10 is χ² = 20/3 on 1 dof', () => {
    const r = chiSquareHomogeneity([10, 20], [20, 10]);
    expect(r.statistic).toBeCloseTo(20 / 3, 12);
    expect(r.dof).toBe(1);
    expect(r.pValue).toBeCloseTo(0.009823275, 8);
    expect(chiSquareHomogeneity([0, 0], [3, 4]).pValue).toBe(1);
  });

  it('scores against a reference in one call', () => {
    const s = scoreAgainstReference([30, 70], [0.5, 0.5]);
    expect(s.n).toBe(100);
    expect(s.statistic).toBeCloseTo(16, 12);
    expect(shares([1, 3])).toEqual([0.25, 0.75]);
  });
});

describe('scorePrepared', () => {
  it('equals scoreAgainstReference on random and edge-case inputs', () => {
    const vec = fc.array(fc.nat(400), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        vec,
        fc.array(fc.nat(50), { minLength: 12, maxLength: 12 }),
        fc.constantFrom(0, 5),
        (counts: number[], w: number[], minExpected: number) => {
          const raw: number[] = w.slice(0, counts.length);
          if (!raw.some((x) => x > 0)) raw[0] = 1;
          const total = raw.reduce((a, b) => a + b, 0);
          const freq = raw.map((x) => x / total);
          const a = scoreAgainstReference(counts, freq, 1e-4, minExpected);
          const b = scorePrepared(counts, prepareReference(freq, 1e-4), minExpected);
          for (const k of ['psi', 'js', 'n', 'dof'] as const) expect(b[k]).toBeCloseTo(a[k], 9);
          if (Number.isFinite(a.statistic)) expect(b.statistic).toBeCloseTo(a.statistic, 6);
          else expect(b.statistic).toBe(Infinity);
          expect(b.pValue).toBeCloseTo(a.pValue, 9);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });
});
