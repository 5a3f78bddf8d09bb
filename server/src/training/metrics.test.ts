// metricsFromProbabilities on small hand-checked inputs.
import { describe, expect, it } from 'vitest';
import { metricsFromProbabilities } from './metrics.ts';

describe('metricsFromProbabilities', () => {
  // 4 samples, 3 classes. Predictions: 0 (right), 1 (right), 1 (wrong, label 2), 0 (wrong, label 1).
  const probs = Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.5, 0.3, 0.4, 0.35, 0.25);
  const labels = Int32Array.of(0, 1, 2, 1);
  const m = metricsFromProbabilities(probs, 3, labels);

  it('counts accuracy and the confusion matrix [true][predicted]', () => {
    expect(m.n).toBe(4);
    expect(m.accuracy).toBe(0.5);
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 1, 0],
    ]);
  });

  it('computes per-class precision, recall and F1, with 0 for classes never predicted', () => {
    expect(m.perClass[0]).toMatchObject({ class: 0, support: 1, precision: 0.5, recall: 1 });
    expect(m.perClass[0]!.f1).toBeCloseTo(2 / 3, 10);
    expect(m.perClass[1]).toMatchObject({ class: 1, support: 2, precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(m.perClass[2]).toEqual({ class: 2, support: 1, precision: 0, recall: 0, f1: 0 });
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.5 + 0) / 3, 10);
  });

  it('computes log loss as the mean -ln p(label)', () => {
    const want = -(Math.log(0.7) + Math.log(0.8) + Math.log(0.3) + Math.log(0.35)) / 4;
    expect(m.logLoss).toBeCloseTo(want, 6);
  });

  it('computes a 15-bin expected calibration error', () => {
    // Confidences 0.7 (bin 10, right), 0.8 (bin 11, right), 0.5 (bin 7, wrong), 0.4 (bin 5, wrong).
    const want = (Math.abs(1 - 0.7) + Math.abs(1 - 0.8) + Math.abs(0 - 0.5) + Math.abs(0 - 0.4)) / 4;
    expect(m.ece).toBeCloseTo(want, 6);
    // Two samples in one bin average before the gap is taken: |1/2 - 0.6|.
    const shared = metricsFromProbabilities(Float32Array.of(0.6, 0.4, 0.4, 0.6), 2, Int32Array.of(0, 0));
    expect(shared.ece).toBeCloseTo(0.1, 6);
  });

  it('clips probabilities so a confident mistake costs -ln(1e-7), not infinity', () => {
    const r = metricsFromProbabilities(Float32Array.of(1, 0), 2, Int32Array.of(1));
    expect(r.logLoss).toBeCloseTo(-Math.log(1e-7), 6);
    expect(r.ece).toBeCloseTo(1, 6);
  });

  it('rejects mismatched sizes and out-of-range labels', () => {
    expect(() => metricsFromProbabilities(Float32Array.of(1, 0, 0), 2, Int32Array.of(0))).toThrow(RangeError);
    expect(() => metricsFromProbabilities(Float32Array.of(1, 0), 2, Int32Array.of(2))).toThrow(/outside 0..1/);
  });
});
