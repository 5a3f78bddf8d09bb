// Classification metrics from predicted probabilities; pure, so ONNX parity and field accuracy reuse it.

export interface ClassMetrics {
  class: number;
  /** TP / (TP + FP); 0 when the class is never predicted. */
  precision: number;
  /** TP / support; 0 when the class has no samples. */
  recall: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
  /** Samples whose true label is this class. */
  support: number;
}

export interface ClassificationMetrics {
  n: number;
  /** Share of samples whose highest-probability class is the label, 0..1. */
  accuracy: number;
  /** Mean -ln p(label), with p clipped to [1e-7, 1 - 1e-7] like the training loss. */
  logLoss: number;
  /** Expected calibration error over ECE_BINS equal-width confidence bins, 0..1. */
  ece: number;
  /** Unweighted mean F1 over classes. */
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][];
}

/** Confidence bins for the expected calibration error. */
export const ECE_BINS = 15;
const EPSILON = 1e-7;

/**
 * Metrics for `labels.length` samples from row-major probabilities `[n, numClasses]`.
 * The prediction is the first class with the highest probability; its probability is the confidence
 * binned for ECE (bins (k/15, (k+1)/15], confidence 0 falls in the first).
 */
export function metricsFromProbabilities(probs: Float32Array, numClasses: number, labels: Int32Array): ClassificationMetrics {
  const n = labels.length;
  if (probs.length !== n * numClasses) throw new RangeError(`probs holds ${probs.length} values, expected ${n} x ${numClasses}`);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const binCount = new Array<number>(ECE_BINS).fill(0);
  const binConfidence = new Array<number>(ECE_BINS).fill(0);
  const binCorrect = new Array<number>(ECE_BINS).fill(0);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label < 0 || label >= numClasses) throw new RangeError(`labels[${i}] = ${label} is outside 0..${numClasses - 1}`);
    const row = i * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[row + c]! > probs[row + best]!) best = c;
    const confidence = probs[row + best]!;
    const hit = best === label ? 1 : 0;
    correct += hit;
    confusion[label]![best]!++;
    lossSum -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, probs[row + label]!)));
    const bin = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(confidence * ECE_BINS) - 1));
    binCount[bin]!++;
    binConfidence[bin]! += confidence;
    binCorrect[bin]! += hit;
  }
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) if (binCount[b]) ece += Math.abs(binCorrect[b]! - binConfidence[b]!) / n;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ class: c, precision, recall, f1, support });
  }
  return {
    n,
    accuracy: n ? correct / n : NaN,
    logLoss: n ? lossSum / n : NaN,
    ece: n ? ece : NaN,
    macroF1: perClass.reduce((a, p) => a + p.f1, 0) / numClasses,
    perClass,
    confusion,
  };
}
