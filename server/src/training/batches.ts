// Moves rows of a Dataset into tensors and runs batched prediction, sized to the model's own input shape.
import * as tf from '@tensorflow/tfjs';
import { featureSize, type Dataset } from '../datasets/dataset-types.ts';
import { DatasetFitError } from './training-errors.ts';

/**
 * The per-sample input shape to feed `model`: its declared input shape, which must hold as many
 * values as one sample of `ds` (so a [784] model can read [28,28,1] digits and vice versa).
 * @throws DatasetFitError when sizes, labels or class counts do not fit the model.
 */
export function checkDatasetForModel(model: tf.LayersModel, ds: Dataset, what: string): number[] {
  const fs = featureSize(ds);
  if (ds.x.length !== ds.n * fs) throw new DatasetFitError(`${what}: x holds ${ds.x.length} values, expected n * ${fs} = ${ds.n * fs}`);
  if (ds.y.length !== ds.n) throw new DatasetFitError(`${what}: y holds ${ds.y.length} labels, expected n = ${ds.n}`);
  for (let i = 0; i < ds.n; i++) {
    const label = ds.y[i]!;
    if (label < 0 || label >= ds.numClasses) throw new DatasetFitError(`${what}: y[${i}] = ${label} is outside 0..${ds.numClasses - 1}`);
  }
  const input = model.inputs[0]!.shape.slice(1);
  if (input.some((d) => d === null) || (input as number[]).reduce((a, b) => a * b, 1) !== fs) {
    throw new DatasetFitError(`${what}: samples of shape [${ds.featureShape.join(',')}] do not fit the model input [${input.join(',')}]`);
  }
  const classes = model.outputs[0]!.shape[1];
  if (classes !== ds.numClasses) throw new DatasetFitError(`${what}: ${ds.numClasses} classes but the model outputs ${String(classes)}`);
  return input as number[];
}

/** Copies rows `indices` of `ds` into an input tensor of shape [indices.length, ...inputShape]. */
export function gatherInputs(ds: Dataset, indices: ArrayLike<number>, inputShape: number[]): tf.Tensor {
  const fs = featureSize(ds);
  const x = new Float32Array(indices.length * fs);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    x.set(ds.x.subarray(r * fs, (r + 1) * fs), i * fs);
  }
  return tf.tensor(x, [indices.length, ...inputShape], 'float32');
}

/** Class probabilities for every row of `ds`, row-major `[n, numClasses]`, predicted `batchSize` rows at a time. */
export async function predictProbabilities(model: tf.LayersModel, ds: Dataset, batchSize = 256): Promise<Float32Array> {
  const inputShape = checkDatasetForModel(model, ds, 'dataset');
  const fs = featureSize(ds);
  const probs = new Float32Array(ds.n * ds.numClasses);
  for (let start = 0; start < ds.n; start += batchSize) {
    const rows = Math.min(batchSize, ds.n - start);
    const out = tf.tidy(() => {
      const x = tf.tensor(ds.x.subarray(start * fs, (start + rows) * fs), [rows, ...inputShape], 'float32');
      return model.predict(x) as tf.Tensor;
    });
    probs.set((await out.data()) as Float32Array, start * ds.numClasses);
    out.dispose();
  }
  return probs;
}
