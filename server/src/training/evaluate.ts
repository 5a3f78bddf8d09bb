// Evaluates a trained model on a held-out Dataset: quality metrics plus prediction latency.
import * as tf from '@tensorflow/tfjs';
import { checkDatasetForModel, gatherInputs, predictProbabilities } from './batches.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { DatasetFitError } from './training-errors.ts';
import { metricsFromProbabilities, type ClassificationMetrics } from './metrics.ts';

export interface LatencyFigures {
  /** Median / 95th percentile wall time of predicting one sample, ms. */
  batch1P50Ms: number;
  batch1P95Ms: number;
  /** Median wall time of predicting 64 samples at once, ms. */
  batch64P50Ms: number;
  /** Throughput of predicting the whole set at `batchSize`, samples per second. */
  samplesPerSec: number;
}

export interface Evaluation extends ClassificationMetrics {
  latency: LatencyFigures;
}

export interface EvaluateOptions {
  /** Rows per prediction call for the metrics pass. Default 256. */
  batchSize?: number;
  /** Timed single-sample predictions (after 5 warm-up calls). Default 100. */
  latencyRuns?: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function timeRuns(model: tf.LayersModel, x: tf.Tensor, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs + 5; i++) {
    const t0 = performance.now();
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
    if (i >= 5) times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Accuracy, log loss, 15-bin ECE, per-class precision/recall/F1, confusion matrix, and latency
 * (single-sample and 64-sample predictions on the active backend, including tensor upload and read-back).
 */
export async function evaluateModel(model: tf.LayersModel, test: Dataset, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const batchSize = opts.batchSize ?? 256;
  const runs = opts.latencyRuns ?? 100;
  if (test.n === 0) throw new DatasetFitError('test: the set is empty');
  const inputShape = checkDatasetForModel(model, test, 'test');
  const t0 = performance.now();
  const probs = await predictProbabilities(model, test, batchSize);
  const samplesPerSec = (test.n / (performance.now() - t0)) * 1000;
  const metrics = metricsFromProbabilities(probs, test.numClasses, test.y);

  const one = gatherInputs(test, [0], inputShape);
  const many = gatherInputs(
    test,
    Array.from({ length: 64 }, (_, i) => i % test.n),
    inputShape,
  );
  try {
    const single = await timeRuns(model, one, runs);
    const batched = await timeRuns(model, many, Math.max(5, Math.ceil(runs / 5)));
    return {
      ...metrics,
      latency: {
        batch1P50Ms: percentile(single, 0.5),
        batch1P95Ms: percentile(single, 0.95),
        batch64P50Ms: percentile(batched, 0.5),
        samplesPerSec,
      },
    };
  } finally {
    one.dispose();
    many.dispose();
  }
}
