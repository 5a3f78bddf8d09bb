// What predict returns, and the arithmetic from raw outputs to top-1 class and confidence.
import type { Tensor } from '../runtime/tensors.ts';
import type { ModelInfo } from './active-model.ts';

/** One answered row. */
export interface Prediction {
  /** Pass to `agent.feedback` when the true label becomes known. */
  predictionId: string;
  /** Every model output for this row (the batch dimension removed). */
  outputs: Record<string, Float32Array>;
  /** Index of the largest value of the first output. */
  top1: number;
  /** The manifest's label of `top1`, when it has labels. */
  label?: string;
  /** Probability of `top1` in [0, 1]: the output itself when it is a distribution, else its softmax. */
  confidence: number;
  model: ModelInfo;
  /** Wall time in ms from the call to this answer (preprocessing, inference, post-processing). */
  latencyMs: number;
}

/** A batch: one prediction per row, in order, from one model. */
export interface BatchPrediction {
  predictions: Prediction[];
  model: ModelInfo;
  /** Wall time of the whole batch in ms. */
  latencyMs: number;
}

/** Index of the largest value (the first one on ties). */
export function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Confidence of the `top` entry: the value itself when `v` already is a probability distribution
 * (non-negative, summing to 1 within 1e-3), else softmax(v)[top]. Models ending in Softmax pay nothing.
 */
export function confidenceOf(v: Float32Array, top: number): number {
  let sum = 0;
  let negative = false;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    if (v[i]! < 0) negative = true;
  }
  if (!negative && Math.abs(sum - 1) < 1e-3) return v[top]!;
  const max = v[top]!;
  let z = 0;
  for (let i = 0; i < v.length; i++) z += Math.exp(v[i]! - max);
  return 1 / z;
}

/**
 * The answer to a named-tensor call (`agent.predict({ ids: {...}, mask: {...} })`): every output as a
 * typed tensor with its dims (batch included). `top1`, `label` and `confidence` are there when the model
 * is a single-output classifier and the call was one row.
 */
export interface NamedPrediction {
  /** Pass to `agent.feedback` when the true label becomes known (counted only for classifier answers). */
  predictionId: string;
  outputs: Record<string, Tensor>;
  top1?: number;
  label?: string;
  confidence?: number;
  model: ModelInfo;
  /** Wall time in ms from the call to this answer. */
  latencyMs: number;
}
