// Test and benchmark helper: a small MNIST CNN (Conv + BatchNorm + Relu + MaxPool + Dense) trained in seconds.
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from './mnist-mlp.ts';

/** Training rows used; the rows after them are free for calibration. */
export const FROZEN_CNN_TRAIN_ROWS = 3000;

/**
 * Random, frozen convolutions with a trained classifier on top: the wasm backend has no convolution
 * gradients (Conv2DBackpropFilter) and the cpu backend takes minutes, while random filters are enough
 * features to make int8/float comparisons meaningful on real digits (about 84% test accuracy).
 */
export async function trainFrozenMnistCnn(split: MnistSplit): Promise<tf.Sequential> {
  const L = tf.layers;
  const frozen = { trainable: false };
  const seeded = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const model = tf.sequential({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false, ...seeded(1), ...frozen }),
      L.batchNormalization({ ...frozen }),
      L.reLU({}),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({
        filters: 12,
        kernelSize: [3, 2],
        strides: [2, 1],
        activation: 'relu',
        biasInitializer: tf.initializers.randomNormal({ stddev: 0.05, seed: 3 }),
        ...seeded(2),
        ...frozen,
      }),
      L.maxPooling2d({ poolSize: 2, padding: 'same' }),
      L.flatten(),
      L.dense({ units: 10, activation: 'softmax', ...seeded(4) }),
    ],
  });
  const bn = model.layers[1]!;
  const c = 8;
  bn.setWeights([
    tf.randomUniform([c], 0.5, 1.5, 'float32', 5),
    tf.randomNormal([c], 0, 0.1, 'float32', 6),
    tf.randomNormal([c], 0, 0.1, 'float32', 7),
    tf.randomUniform([c], 0.05, 0.2, 'float32', 8),
  ]);
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy' });
  const n = FROZEN_CNN_TRAIN_ROWS;
  const xs = tf.tensor4d(split.train.x.subarray(0, n * 784), [n, 28, 28, 1]);
  const ys = tf.tensor1d(Float32Array.from(split.train.y.subarray(0, n)));
  // No shuffling (the split is already shuffled) so every run trains the same model.
  await model.fit(xs, ys, { epochs: 3, batchSize: 64, verbose: 0, shuffle: false });
  xs.dispose();
  ys.dispose();
  return model;
}
