// Reconnect delays grow exponentially to a cap and are jittered, never below half the ceiling.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles up to the cap, with equal jitter', () => {
    const o = { minMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { ...o, random: () => 0 }))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { ...o, random: () => 0.999999 }))).toEqual(
      [100, 200, 400, 800, 1000, 1000].map((v) => expect.closeTo(v, 2)),
    );
  });

  it('spreads a fleet out: random draws give distinct delays', () => {
    const delays = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(5))));
    expect(delays.size).toBeGreaterThan(40);
  });
});
