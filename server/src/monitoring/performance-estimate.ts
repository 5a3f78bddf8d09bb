// Model quality in the field: accuracy estimated from confidence alone, and measured from feedback labels.
import { histogramMean, histogramTotal, type Histogram } from './histogram.ts';

/** An estimate with its interval, from `n` observations. */
export interface Estimate {
  estimate: number;
  low: number;
  high: number;
  n: number;
}

/**
 * Accuracy expected without labels, after confidence-based performance estimation (CBPE, as in NannyML):
 * for a calibrated classifier the chance a prediction is right equals its confidence, so expected accuracy
 * is the mean top-class confidence. Without a `calibration` map each bin counts at its midpoint and
 * `low`/`high` put every prediction at its bin's lower or upper edge (the binning's uncertainty).
 * With `calibration` (accuracy observed per confidence bin on held-out data, same bins), each bin counts
 * at its calibrated accuracy, which corrects an over- or under-confident model. Null without data.
 */
export function estimatedAccuracy(
  confidence: Histogram,
  calibration?: readonly number[],
): (Estimate & { method: 'average-confidence' | 'calibrated' }) | null {
  const n = histogramTotal(confidence);
  if (n === 0) return null;
  if (calibration && calibration.length === confidence.counts.length) {
    let s = 0;
    for (let i = 0; i < calibration.length; i++) s += confidence.counts[i]! * calibration[i]!;
    const e = s / n;
    return { estimate: e, low: e, high: e, n, method: 'calibrated' };
  }
  const m = histogramMean(confidence)!;
  return { estimate: m.mean, low: m.low, high: m.high, n, method: 'average-confidence' };
}

/**
 * Wilson score interval for `correct` successes out of `n` (default z = 1.96, a 95 % interval). Unlike the
 * normal approximation it stays inside [0, 1] and behaves at 0 or n successes. Null when n is 0.
 */
export function wilsonInterval(correct: number, n: number, z = 1.96): Estimate | null {
  if (!(n > 0)) return null;
  const p = Math.min(1, Math.max(0, correct / n));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), n };
}

/** Field accuracy from feedback counts, overall and (when agents send `byClass`) per true class. */
export function fieldAccuracy(
  feedback: { labelled: number; correct: number; byClass?: { labelled: number[]; correct: number[] } },
  z = 1.96,
): { overall: Estimate | null; byClass: (Estimate | null)[] | null } {
  const byClass = feedback.byClass
    ? feedback.byClass.labelled.map((n, i) => wilsonInterval(feedback.byClass!.correct[i] ?? 0, n, z))
    : null;
  return { overall: wilsonInterval(feedback.correct, feedback.labelled, z), byClass };
}
