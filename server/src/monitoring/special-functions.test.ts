// Hand-checked values of log-gamma, the incomplete gamma functions and chi-square tail probabilities.
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, gammaP, gammaQ, lnGamma } from './special-functions.ts';

describe('special functions', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(lnGamma(101)).toBeCloseTo(363.73937555556347, 9);
    expect(lnGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
    expect(() => lnGamma(0)).toThrow(RangeError);
  });

  it('P(1, x) = 1 − e^(−x), and P + Q = 1 on both sides of the series/fraction switch', () => {
    for (const x of [0.1, 1, 1.9, 2.1, 10]) expect(gammaP(1, x)).toBeCloseTo(1 - Math.exp(-x), 13);
    for (const [a, x] of [
      [3, 1],
      [3, 5],
      [0.5, 0.2],
      [20, 30],
    ] as const)
      expect(gammaP(a, x) + gammaQ(a, x)).toBeCloseTo(1, 13);
    expect(gammaP(2, 0)).toBe(0);
    expect(gammaQ(2, 0)).toBe(1);
    expect(() => gammaQ(-1, 1)).toThrow(RangeError);
  });

  it('chi-square tails: textbook critical values and closed forms', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 12);
    // Even dof have closed forms: dof 2 → e^(−x/2); dof 4 → e^(−x/2)(1 + x/2).
    expect(chiSquareSurvival(2, 2)).toBeCloseTo(Math.exp(-1), 14);
    expect(chiSquareSurvival(0.5, 4)).toBeCloseTo(Math.exp(-0.25) * 1.25, 14);
    // Deep tail keeps relative precision: dof 10 at x = 100 is e^(−50)·Σ_{j<5} 50^j/j!.
    const exact = Math.exp(-50) * (1 + 50 + 1250 + 125000 / 6 + 6250000 / 24);
    expect(chiSquareSurvival(100, 10) / exact).toBeCloseTo(1, 10);
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(5, 0)).toBe(1);
  });
});
