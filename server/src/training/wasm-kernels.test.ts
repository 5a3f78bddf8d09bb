// Checks the wasm training kernels against the cpu backend's gradients on awkward shapes.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { registerWasmTrainingKernels, useWasmKernelReplacements } from './wasm-kernels.ts';

type Case = { name: string; build: () => tf.Tensor[]; loss: (...t: tf.Tensor[]) => tf.Scalar };

/** Gradients of `loss` w.r.t. every input, on `backend`, as plain arrays. */
async function gradsOn(backend: 'cpu' | 'wasm', c: Case): Promise<Float32Array[]> {
  await selectBackend({ prefer: backend, strict: true });
  return tf.tidy(() => {
    const inputs = c.build();
    const grads = tf.grads((...t: tf.Tensor[]) => c.loss(...t))(inputs);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

/** wasm and cpu agree to 1e-4 of the largest gradient (float32 sums in different orders). */
async function expectSameGrads(c: Case): Promise<void> {
  const want = await gradsOn('cpu', c);
  const got = await gradsOn('wasm', c);
  expect(got.length).toBe(want.length);
  for (const [i, w] of want.entries()) {
    const g = got[i]!;
    expect(g.length).toBe(w.length);
    const scale = Math.max(1, ...Array.from(w, Math.abs));
    let worst = 0;
    for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(g[k]! - w[k]!));
    expect(worst / scale, `${c.name}, input ${i}`).toBeLessThan(1e-4);
  }
}

// A loss with a different weight per output element, so a misplaced gradient cannot cancel out.
const weighted = (y: tf.Tensor) => y.mul(tf.range(0, y.size).reshape(y.shape).mul(0.37).sin()).sum() as tf.Scalar;
const normal = (shape: number[], seed: number, mean = 0) => tf.randomNormal(shape, mean, 1, 'float32', seed);

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm', strict: true });
});

describe('registerWasmTrainingKernels', () => {
  it('registers the missing and replaced kernels once', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm')).toBeDefined();
    expect(registerWasmTrainingKernels()).toEqual([]);
  });
});

describe('useWasmKernelReplacements', () => {
  // Pins tfjs-backend-wasm 4.22: if the stock kernel stops being wrong after an upgrade, the
  // MaxPoolGrad replacement may no longer be needed.
  it('switches to the stock kernels (stock MaxPoolGrad loses all-negative windows) and back', async () => {
    const c: Case = {
      name: 'negative windows',
      build: () => [normal([1, 4, 4, 1], 3, -3)],
      loss: (x) => weighted(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')),
    };
    const want = await gradsOn('cpu', c);
    useWasmKernelReplacements(false);
    const stock = await gradsOn('wasm', c);
    useWasmKernelReplacements(true);
    const ours = await gradsOn('wasm', c);
    expect(Array.from(stock[0]!)).not.toEqual(Array.from(want[0]!));
    expect(Array.from(ours[0]!)).toEqual(Array.from(want[0]!));
  });
});

describe('conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  const cases: [number[], number[], number | [number, number], 'same' | 'valid'][] = [
    [[2, 9, 7, 3], [3, 2, 3, 5], 1, 'same'],
    [[2, 9, 7, 3], [3, 2, 3, 5], 2, 'same'],
    [[3, 10, 8, 2], [2, 3, 2, 4], 2, 'valid'],
    [[1, 11, 9, 1], [5, 4, 1, 6], [2, 1], 'valid'],
    [[2, 8, 8, 3], [3, 3, 3, 2], 2, 'same'],
    [[2, 8, 8, 3], [4, 4, 3, 2], 3, 'valid'],
    [[3, 7, 7, 4], [1, 1, 4, 3], 2, 'valid'],
    [[2, 6, 5, 2], [6, 5, 2, 3], 1, 'valid'],
  ];
  for (const [xs, fs, s, p] of cases) {
    it(`x ${xs} filter ${fs} strides ${s} ${p}`, async () => {
      await expectSameGrads({
        name: `conv ${xs} ${fs} ${s} ${p}`,
        build: () => [normal(xs, 1), normal(fs, 2)],
        loss: (x, f) => weighted(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, p)),
      });
    });
  }
});

describe('pooling gradients', () => {
  const cases: [number[], [number, number], number | [number, number], 'same' | 'valid', number][] = [
    [[2, 9, 7, 3], [2, 2], 2, 'valid', 0],
    // All-negative windows: the stock wasm MaxPoolGrad loses these gradients (FLT_MIN seed).
    [[2, 9, 7, 3], [2, 2], 2, 'valid', -3],
    [[2, 9, 7, 3], [3, 3], 2, 'same', -3],
    [[2, 9, 7, 5], [3, 2], 1, 'same', 0],
    [[1, 10, 10, 2], [3, 3], [2, 1], 'valid', 1],
  ];
  for (const [xs, ps, s, p, mean] of cases) {
    it(`maxPool ${xs} window ${ps} strides ${s} ${p} mean ${mean}`, async () => {
      await expectSameGrads({
        name: 'maxPool',
        build: () => [normal(xs, 3, mean)],
        loss: (x) => weighted(tf.maxPool(x as tf.Tensor4D, ps, s, p)),
      });
    });
    it(`avgPool ${xs} window ${ps} strides ${s} ${p}`, async () => {
      await expectSameGrads({
        name: 'avgPool',
        build: () => [normal(xs, 4, mean)],
        loss: (x) => weighted(tf.avgPool(x as tf.Tensor4D, ps, s, p)),
      });
    });
  }
  it('gives ties to the first maximum, like the cpu backend', async () => {
    await expectSameGrads({
      name: 'ties',
      build: () => [tf.zeros([1, 4, 4, 2])],
      loss: (x) => weighted(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')),
    });
  });
});

describe('depthwise conv2d gradients', () => {
  const cases: [number[], number[], number, 'same' | 'valid'][] = [
    [[2, 9, 7, 3], [3, 2, 3, 1], 1, 'same'],
    [[2, 9, 7, 3], [3, 3, 3, 2], 2, 'same'],
    [[1, 8, 9, 2], [2, 3, 2, 3], 2, 'valid'],
  ];
  for (const [xs, fs, s, p] of cases) {
    it(`x ${xs} filter ${fs} strides ${s} ${p}`, async () => {
      await expectSameGrads({
        name: 'depthwise',
        build: () => [normal(xs, 5), normal(fs, 6)],
        loss: (x, f) => weighted(tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, p)),
      });
    });
  }
});

describe('matMul with transposed operands', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`transposeA ${ta} transposeB ${tb}`, async () => {
      await expectSameGrads({
        name: 'matMul',
        build: () => [normal(ta ? [7, 5] : [5, 7], 7), normal(tb ? [3, 7] : [7, 3], 8)],
        loss: (a, b) => weighted(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb)),
      });
    });
  }
  it('batched products (left to the stock kernel)', async () => {
    await expectSameGrads({
      name: 'batched',
      build: () => [normal([3, 4, 5], 9), normal([3, 6, 5], 10)],
      loss: (a, b) => weighted(tf.matMul(a, b, false, true)),
    });
  });
});

describe('memory', () => {
  it('frees every intermediate buffer the kernels create', async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
    const run = () =>
      tf
        .tidy(() => {
          const x = normal([2, 9, 7, 3], 1);
          const f = normal([3, 3, 3, 4], 2);
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            weighted(tf.maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), 2, 1, 'same')),
          )([x, f]);
          const m = tf.grads((a: tf.Tensor, b: tf.Tensor) => weighted(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, true, true)))([
            normal([4, 3], 3),
            normal([5, 4], 4),
          ]);
          return [...g, ...m].map((t) => t.sum());
        })
        .forEach((t) => t.dispose());
    run();
    const before = tf.memory();
    run();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
  });
});
