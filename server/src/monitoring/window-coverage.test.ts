// The credited-time ledger on its own: overlap arithmetic, batches that commit only when stored, the span bound.
import { describe, expect, it } from 'vitest';
import { MAX_SPANS, WindowCoverage } from './window-coverage.ts';

const S = 1000;

describe('WindowCoverage', () => {
  it('credits back-to-back windows whole and overlapping ones only for their new part', () => {
    const cov = new WindowCoverage();
    const b = cov.batch();
    expect(b.uncovered('d', 'm@1', 0, 60 * S)).toEqual({ ms: 60 * S, of: 60 * S });
    b.take('d', 'm@1', 0, 60 * S);
    expect(b.uncovered('d', 'm@1', 60 * S, 120 * S).ms).toBe(60 * S);
    expect(b.uncovered('d', 'm@1', 0, 60 * S).ms).toBe(0);
    expect(b.uncovered('d', 'm@1', 30 * S, 90 * S).ms).toBe(30 * S);
    // Other models and other devices have their own time.
    expect(b.uncovered('d', 'm@2', 0, 60 * S).ms).toBe(60 * S);
    expect(b.uncovered('e', 'm@1', 0, 60 * S).ms).toBe(60 * S);
    // A zero-length window stands for its first millisecond: credited once, then covered.
    expect(b.uncovered('d', 'm@1', 200 * S, 200 * S)).toEqual({ ms: 1, of: 1 });
    b.take('d', 'm@1', 200 * S, 200 * S);
    expect(b.uncovered('d', 'm@1', 200 * S, 200 * S).ms).toBe(0);
  });

  it('keeps nothing from a batch that was not committed (a failed store is resent and must find its time free)', () => {
    const cov = new WindowCoverage();
    const failed = cov.batch();
    failed.take('d', 'm', 0, 60 * S);
    expect(cov.batch().uncovered('d', 'm', 0, 60 * S).ms).toBe(60 * S);
    const stored = cov.batch();
    stored.take('d', 'm', 0, 60 * S);
    stored.commit();
    expect(cov.batch().uncovered('d', 'm', 0, 60 * S).ms).toBe(0);
  });

  it('holds at most MAX_SPANS gaps: older time merges into a floor that stays covered', () => {
    const cov = new WindowCoverage();
    const b = cov.batch();
    // Windows with gaps between them, as a device would send to keep many spans alive.
    for (let i = 0; i < MAX_SPANS + 10; i++) b.take('d', 'm', i * 10 * S, i * 10 * S + S);
    b.commit();
    const after = cov.batch();
    // The gaps of the oldest spans are forgotten as covered: old time cannot be claimed again.
    expect(after.uncovered('d', 'm', 0, 5 * S).ms).toBe(0);
    // Recent gaps are still free, and the recent spans still covered.
    const last = (MAX_SPANS + 9) * 10 * S;
    expect(after.uncovered('d', 'm', last - 9 * S, last).ms).toBe(9 * S);
    expect(after.uncovered('d', 'm', last, last + S).ms).toBe(0);
  });

  it('is seeded from stored windows once per device', () => {
    const cov = new WindowCoverage();
    expect(cov.needsSeed('d')).toBe(true);
    cov.seed('d', [
      { model: 'm', start: 0, end: 60 * S },
      { model: 'm', start: 60 * S, end: 120 * S },
    ]);
    expect(cov.needsSeed('d')).toBe(false);
    expect(cov.batch().uncovered('d', 'm', 0, 180 * S).ms).toBe(60 * S);
    // Only the newest windows were read: the time before the oldest of them counts as covered too.
    cov.seed('e', [{ model: 'm', start: 600 * S, end: 660 * S }], true);
    expect(cov.batch().uncovered('e', 'm', 0, 600 * S).ms).toBe(0);
    expect(cov.batch().uncovered('e', 'm', 660 * S, 720 * S).ms).toBe(60 * S);
  });
});
