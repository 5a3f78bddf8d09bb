// Accuracy without labels (average confidence, calibrated) and with labels (Wilson intervals), by hand.
import { describe, expect, it } from 'vitest';
import { estimatedAccuracy, fieldAccuracy, wilsonInterval } from './performance-estimate.ts';

describe('estimatedAccuracy', () => {
  it('is the mean confidence at bin midpoints, bounded by the bin edges', () => {
    // 10 predictions at 0.5-0.6 and 30 at 0.9-1.0: (10·0.55 + 30·0.95) / 40 = 0.85.
    const h = { edges: [0.5, 0.6, 0.9, 1], counts: [10, 0, 30] };
    const e = estimatedAccuracy(h)!;
    expect(e.estimate).toBeCloseTo(0.85, 12);
    expect(e.low).toBeCloseTo((10 * 0.5 + 30 * 0.9) / 40, 12);
    expect(e.high).toBeCloseTo((10 * 0.6 + 30 * 1) / 40, 12);
    expect(e).toMatchObject({ n: 40, method: 'average-confidence' });
  });

  it('uses a calibration map when given one of the right length, and is null without data', () => {
    const h = { edges: [0, 0.5, 1], counts: [20, 80] };
    expect(estimatedAccuracy(h, [0.3, 0.8])).toEqual({
      estimate: (20 * 0.3 + 80 * 0.8) / 100,
      low: 0.7,
      high: 0.7,
      n: 100,
      method: 'calibrated',
    });
    expect(estimatedAccuracy(h, [0.3])?.method).toBe('average-confidence');
    expect(estimatedAccuracy({ edges: [0, 1], counts: [0] })).toBeNull();
  });
});

describe('wilsonInterval', () => {
  it('8 of 10 gives the textbook interval (0.490, 0.943)', () => {
    const w = wilsonInterval(8, 10)!;
    expect(w.estimate).toBe(0.8);
    expect(w.low).toBeCloseTo(0.4902, 4);
    expect(w.high).toBeCloseTo(0.9433, 4);
  });

  it('stays inside [0, 1] at the extremes and is null without labels', () => {
    const all = wilsonInterval(20, 20)!;
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(0.8389, 4);
    expect(wilsonInterval(0, 20)!.low).toBe(0);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('field accuracy overall and per true class', () => {
    const f = fieldAccuracy({ labelled: 10, correct: 8, byClass: { labelled: [4, 6, 0], correct: [4, 4, 0] } });
    expect(f.overall?.estimate).toBe(0.8);
    expect(f.byClass?.map((c) => c?.estimate ?? null)).toEqual([1, 4 / 6, null]);
    expect(fieldAccuracy({ labelled: 0, correct: 0 })).toEqual({ overall: null, byClass: null });
  });
});
