// The training loop: seeded per-epoch shuffles, own batching, progress callbacks, cancellation, validation.
import * as tf from '@tensorflow/tfjs';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { checkDatasetForModel, gatherInputs, predictProbabilities } from './batches.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { metricsFromProbabilities } from './metrics.ts';
import { validateHyperparams, type Hyperparams, type HyperparamsInput } from './hyperparams.ts';
import { findDropoutLayers, reseedDropout } from './layer-seeds.ts';
import { deriveSeed, seededRandom, shuffleInPlace } from '../random/seeded-random.ts';
import { DatasetFitError, HyperparamsError } from './training-errors.ts';
import type { EpochRecord } from '../store/entities.ts';

/** Figures for one finished epoch: the record a run keeps in its history. */
export type EpochMetrics = EpochRecord;

/** Progress after each batch, for progress bars. */
export interface BatchProgress {
  epoch: number;
  /** 1-based batch number within the epoch. */
  batch: number;
  batchesPerEpoch: number;
  /** Loss and accuracy of this batch alone. */
  loss: number;
  accuracy: number;
}

export interface TrainOptions {
  /** An uncompiled (or compiled) model; trainModel compiles it with its own optimizer. */
  model: tf.LayersModel;
  train: Dataset;
  validation: Dataset;
  /** Missing fields take their defaults (see HyperparamsSchema). */
  hyper: HyperparamsInput;
  /** Called after each epoch; a returned promise is awaited before the next epoch. */
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  onBatch?: (progress: BatchProgress) => void;
  /** Checked between batches; an aborted run stops there and returns `cancelled: true`. */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** One entry per completed epoch. */
  history: EpochMetrics[];
  cancelled: boolean;
  /** The hyperparameters used, defaults filled in. */
  hyper: Hyperparams;
}

function makeOptimizer(h: Hyperparams): tf.Optimizer {
  switch (h.optimizer) {
    case 'adam':
      return tf.train.adam(h.learningRate);
    case 'sgd':
      return tf.train.sgd(h.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(h.learningRate);
  }
}

/**
 * Trains `model` in place. Deterministic for a given backend: data order comes from a PRNG seeded by
 * `hyper.seed`, dropout masks are re-seeded every step, and the caller seeds initial weights via
 * `buildModel`. The optimizer is created here and disposed at the end, so the only tensors left
 * behind are the model's own weights.
 * @throws HyperparamsError, DatasetFitError (empty training set, sizes or labels that do not fit the model)
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const parsed = validateHyperparams(opts.hyper);
  if (!parsed.ok) throw new HyperparamsError(parsed.errors);
  const hyper = parsed.hyper;
  const { model, train, validation, signal } = opts;
  if (train.n === 0) throw new DatasetFitError('train: the set is empty');
  const inputShape = checkDatasetForModel(model, train, 'train');
  if (validation.n > 0) checkDatasetForModel(model, validation, 'validation');

  const optimizer = makeOptimizer(hyper);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const dropouts = findDropoutLayers(model);
  const random = seededRandom(deriveSeed(hyper.seed, 0x5eed));
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const batchesPerEpoch = Math.ceil(train.n / hyper.batchSize);
  const history: EpochMetrics[] = [];
  let cancelled = false;
  let step = 0;
  try {
    for (let epoch = 1; epoch <= hyper.epochs && !cancelled; epoch++) {
      const started = performance.now();
      shuffleInPlace(order, random);
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (signal?.aborted) {
          cancelled = true;
          break;
        }
        const rows = order.subarray(b * hyper.batchSize, Math.min(train.n, (b + 1) * hyper.batchSize));
        const x = gatherInputs(train, rows, inputShape);
        const labels = new Float32Array(rows.length);
        for (let i = 0; i < rows.length; i++) labels[i] = train.y[rows[i]!]!;
        const y = tf.tensor1d(labels, 'float32');
        reseedDropout(dropouts, hyper.seed, step++);
        let result: number | number[];
        try {
          result = await model.trainOnBatch(x, y);
        } finally {
          x.dispose();
          y.dispose();
        }
        const [loss = NaN, accuracy = NaN] = Array.isArray(result) ? result : [result];
        lossSum += loss * rows.length;
        accSum += accuracy * rows.length;
        seen += rows.length;
        opts.onBatch?.({ epoch, batch: b + 1, batchesPerEpoch, loss, accuracy });
        // Backends resolve data() in microtasks; give the event loop a turn so an abort (e.g. a worker
        // message) can arrive mid-epoch.
        await nextMacrotask();
      }
      if (cancelled) break;
      const trainMs = performance.now() - started;
      let valLoss = NaN;
      let valAccuracy = NaN;
      if (validation.n > 0) {
        const m = metricsFromProbabilities(await predictProbabilities(model, validation), validation.numClasses, validation.y);
        valLoss = m.logLoss;
        valAccuracy = m.accuracy;
      }
      const metrics: EpochMetrics = {
        epoch,
        loss: lossSum / seen,
        accuracy: accSum / seen,
        valLoss,
        valAccuracy,
        durationMs: performance.now() - started,
        samplesPerSec: (seen / trainMs) * 1000,
      };
      history.push(metrics);
      await opts.onEpoch?.(metrics);
    }
  } finally {
    optimizer.dispose();
  }
  return { history, cancelled, hyper };
}
