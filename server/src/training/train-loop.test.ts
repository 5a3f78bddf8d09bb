// The training loop on small MNIST subsets: it learns, repeats itself exactly, stops when asked, leaks nothing.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { buildModel } from './build-model.ts';
import { takeRows } from '../datasets/splits.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import type { LayerListSpec } from './model-spec.ts';
import { trainModel, type EpochMetrics } from './train-loop.ts';
import { mnistSplit, sampleRows } from './training-test-kit.ts';

const TINY_MLP: LayerListSpec = {
  layers: [
    { type: 'dense', units: 32, activation: 'relu' },
    { type: 'dropout', rate: 0.2 },
  ],
};
const TINY_CNN: LayerListSpec = {
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'batchNormalization' },
    { type: 'dropout', rate: 0.3 },
  ],
};
const ctx = { inputShape: [28, 28, 1], numClasses: 10 };
let train: Dataset;
let validation: Dataset;

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true });
  const split = await mnistSplit(1);
  train = sampleRows(split.train, 600, 1);
  validation = sampleRows(split.validation, 200, 1);
});

async function run(spec: LayerListSpec, seed: number, data = train, epochs = 2) {
  const model = await buildModel(spec, { ...ctx, seed });
  const result = await trainModel({ model, train: data, validation, hyper: { epochs, batchSize: 32, seed } });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { ...result, weights };
}
const figures = (h: EpochMetrics[]) => h.map(({ loss, accuracy, valLoss, valAccuracy }) => ({ loss, accuracy, valLoss, valAccuracy }));

describe('trainModel', () => {
  it('learns, and reports every epoch and batch', async () => {
    const model = await buildModel(TINY_MLP, { ...ctx, seed: 5 });
    const batches: number[] = [];
    const epochs: EpochMetrics[] = [];
    const { history, cancelled } = await trainModel({
      model,
      train,
      validation,
      hyper: { epochs: 4, batchSize: 32 },
      onBatch: (p) => batches.push(p.batch),
      onEpoch: (m) => void epochs.push(m),
    });
    model.dispose();
    expect(cancelled).toBe(false);
    expect(epochs).toEqual(history);
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    expect(batches).toHaveLength(4 * 19);
    expect(batches.slice(0, 19)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(history[3]!.loss).toBeLessThan(history[0]!.loss);
    expect(history[3]!.valAccuracy).toBeGreaterThan(0.7); // chance is 0.1; 600 rows and 4 epochs land near 0.75
    for (const h of history) {
      expect(h.samplesPerSec).toBeGreaterThan(0);
      expect(h.durationMs).toBeGreaterThan(0);
      expect(Number.isFinite(h.valLoss)).toBe(true);
    }
  });

  it('repeats a run bit for bit with the same seed (conv, pooling, batch norm, dropout on wasm)', async () => {
    const small = takeRows(
      train,
      Array.from({ length: 160 }, (_, i) => i),
    );
    const a = await run(TINY_CNN, 11, small);
    const b = await run(TINY_CNN, 11, small);
    const c = await run(TINY_CNN, 12, small);
    expect(figures(b.history)).toEqual(figures(a.history));
    expect(b.weights).toEqual(a.weights);
    expect(c.weights).not.toEqual(a.weights);
  });

  it('stops between batches when the signal aborts', async () => {
    const model = await buildModel(TINY_MLP, { ...ctx, seed: 1 });
    const controller = new AbortController();
    let seen = 0;
    const result = await trainModel({
      model,
      train,
      validation,
      hyper: { epochs: 3, batchSize: 32 },
      signal: controller.signal,
      onBatch: (p) => {
        seen++;
        if (p.batch === 2) controller.abort();
      },
    });
    model.dispose();
    expect(result).toMatchObject({ cancelled: true, history: [] });
    expect(seen).toBe(2);
  });

  it('notices an abort raised by a timer while it trains (it yields to the event loop)', async () => {
    const model = await buildModel(TINY_MLP, { ...ctx, seed: 1 });
    const controller = new AbortController();
    let batches = 0;
    setTimeout(() => controller.abort(), 50);
    const result = await trainModel({
      model,
      train,
      validation,
      hyper: { epochs: 1000, batchSize: 32 },
      signal: controller.signal,
      onBatch: () => batches++,
    });
    model.dispose();
    expect(result.cancelled).toBe(true);
    expect(batches).toBeLessThan(1000 * 19);
  });

  it('leaves no tensors behind', async () => {
    const model = await buildModel(TINY_CNN, { ...ctx, seed: 1 });
    const before = tf.memory();
    await trainModel({ model, train: takeRows(train, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), validation, hyper: { epochs: 2, batchSize: 4 } });
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    model.dispose();
  });

  it('refuses bad hyperparameters and data that does not fit the model', async () => {
    const model = await buildModel(TINY_MLP, { ...ctx, seed: 1 });
    await expect(trainModel({ model, train, validation, hyper: { batchSize: 0 } })).rejects.toMatchObject({
      code: 'INVALID_HYPERPARAMETERS',
      errors: ['batchSize must be an integer from 1 to 65536'],
    });
    const badLabel = { ...takeRows(train, [0, 1]), y: Int32Array.of(3, 10) };
    await expect(trainModel({ model, train: badLabel, validation, hyper: {} })).rejects.toMatchObject({
      code: 'INVALID_DATASET',
      message: 'train: y[1] = 10 is outside 0..9',
    });
    const wrongShape: Dataset = { x: new Float32Array(2 * 100), y: Int32Array.of(0, 1), n: 2, featureShape: [100], numClasses: 10 };
    await expect(trainModel({ model, train: wrongShape, validation, hyper: {} })).rejects.toMatchObject({ code: 'INVALID_DATASET' });
    model.dispose();
  });
});
