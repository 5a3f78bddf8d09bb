// Shadow counting [WIRE-2.2.1]: how a run compares with the serving answer, and what a window reports.
import { describe, expect, it } from 'vitest';
import { compareShadow } from './shadow-compare.ts';
import { ShadowTally } from './shadow-tally.ts';

const f = (...v: number[]) => Float32Array.from(v);
const MODEL = { name: 'cam', version: '2.0.0', sequence: 2 };

describe('compareShadow', () => {
  it.each([
    { why: 'same top-1 class', serving: { top1: 1, width: 3, value: 0.1 }, shadow: f(0.2, 0.5, 0.3), out: 'agree' },
    { why: 'another top-1 class', serving: { top1: 1, width: 3, value: 0.1 }, shadow: f(0.6, 0.3, 0.1), out: 'disagree' },
    { why: 'another number of classes', serving: { top1: 0, width: 3, value: 0.9 }, shadow: f(0.9, 0.1), out: 'disagree' },
    { why: 'regression within 1e-3 + 1% of the answer', serving: { top1: 0, width: 1, value: 10 }, shadow: f(10.1), out: 'agree' },
    { why: 'regression outside the tolerance', serving: { top1: 0, width: 1, value: 10 }, shadow: f(10.2), out: 'disagree' },
    { why: 'regression near zero: the absolute part', serving: { top1: 0, width: 1, value: 0 }, shadow: f(0.0009), out: 'agree' },
    { why: 'a NaN output', serving: { top1: 0, width: 2, value: 1 }, shadow: f(Number.NaN, 1), out: 'error' },
    { why: 'no output', serving: { top1: 0, width: 2, value: 1 }, shadow: undefined, out: 'error' },
  ] as const)('$why → $out', ({ serving, shadow, out }) => {
    expect(compareShadow(serving, shadow)).toBe(out);
  });
});

describe('ShadowTally', () => {
  it('reports null until a shadow ran', () => {
    expect(new ShadowTally().summary()).toBeNull();
  });

  it('counts requests, errors and agreements, and the p95 of the shadow runs alone', () => {
    const t = new ShadowTally();
    for (let i = 1; i <= 100; i++) t.record(MODEL, i <= 90 ? 'agree' : i <= 97 ? 'disagree' : 'error', i);
    expect(t.summary()).toEqual({ model: MODEL, requests: 100, errors: 3, agreements: 90, latencyP95Ms: 95 });
  });
});
