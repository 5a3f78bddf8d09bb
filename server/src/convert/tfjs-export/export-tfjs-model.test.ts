// Float export parity: every supported layer type, random weights, odd shapes, against TensorFlow.js predict within 1e-4.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, opsetVersion } from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { exportTfjsModel, type ExportedModel } from './export-tfjs-model.ts';
import { SUPPORTED_LAYERS } from './layer-registry.ts';
import { ExportError } from '../convert-error.ts';
import { maxAbsDiff, runOnnx } from '../testing/model-runner.ts';
import { onnxCheck } from '../testing/onnx-checker.ts';

const L = tf.layers;

interface Case {
  name: string;
  input: number[];
  build: () => tf.LayersModel;
  /** ONNX ops the export must contain. */
  ops: string[];
}

const seq = (layers: tf.layers.Layer[]) => tf.sequential({ layers });

const CASES: Case[] = [
  {
    name: 'Dense relu + linear',
    input: [5],
    build: () => seq([L.dense({ inputShape: [5], units: 7, activation: 'relu' }), L.dense({ units: 3 })]),
    ops: ['Gemm', 'Relu'],
  },
  {
    name: 'Conv2D same, 3x2 kernel, stride 2x1, relu6 → Flatten → Dense',
    input: [9, 7, 3],
    build: () =>
      seq([
        L.conv2d({ inputShape: [9, 7, 3], filters: 5, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'relu6' }),
        L.flatten(),
        L.dense({ units: 4, activation: 'softmax' }),
      ]),
    ops: ['Conv', 'Clip', 'Transpose', 'Flatten', 'Softmax'],
  },
  {
    name: 'Conv2D valid, 2x3 kernel, stride 1x2, elu; dilated 3x2 conv',
    input: [8, 11, 2],
    build: () =>
      seq([
        L.conv2d({ inputShape: [8, 11, 2], filters: 4, kernelSize: [2, 3], strides: [1, 2], padding: 'valid', activation: 'elu' }),
        L.conv2d({ filters: 3, kernelSize: [3, 2], dilationRate: [2, 1], padding: 'same', useBias: false }),
      ]),
    ops: ['Conv', 'Elu'],
  },
  {
    name: 'DepthwiseConv2D same, 3x2 kernel, stride 2, multiplier 2, tanh',
    input: [8, 9, 3],
    build: () =>
      seq([
        L.depthwiseConv2d({
          inputShape: [8, 9, 3],
          kernelSize: [3, 2],
          strides: 2,
          depthMultiplier: 2,
          padding: 'same',
          activation: 'tanh',
        }),
      ]),
    ops: ['Conv', 'Tanh'],
  },
  {
    name: 'SeparableConv2D valid',
    input: [7, 6, 3],
    build: () =>
      seq([L.separableConv2d({ inputShape: [7, 6, 3], filters: 4, kernelSize: [3, 2], depthMultiplier: 2, activation: 'sigmoid' })]),
    ops: ['Conv', 'Sigmoid'],
  },
  {
    name: 'BatchNormalization after Conv2D (channels-first) and after Dense',
    input: [6, 5, 2],
    build: () =>
      seq([
        L.conv2d({ inputShape: [6, 5, 2], filters: 3, kernelSize: 2 }),
        L.batchNormalization({}),
        L.flatten(),
        L.dense({ units: 4 }),
        L.batchNormalization({ scale: false }),
      ]),
    ops: ['BatchNormalization'],
  },
  {
    name: 'MaxPooling2D same 3x2 stride 2; AveragePooling2D same 3x3 stride 2 (padding excluded) and valid',
    input: [7, 9, 2],
    build: () =>
      seq([
        L.conv2d({ inputShape: [7, 9, 2], filters: 4, kernelSize: 1 }),
        L.maxPooling2d({ poolSize: [3, 2], strides: 2, padding: 'same' }),
        L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        L.averagePooling2d({ poolSize: [1, 2], padding: 'valid' }),
      ]),
    ops: ['MaxPool', 'AveragePool'],
  },
  {
    name: 'GlobalAveragePooling2D and GlobalMaxPooling2D',
    input: [5, 7, 3],
    build: () => {
      const x = tf.input({ shape: [5, 7, 3] });
      const c = L.conv2d({ filters: 4, kernelSize: 2 }).apply(x) as tf.SymbolicTensor;
      const a = L.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor;
      const m = L.globalMaxPooling2d({}).apply(c) as tf.SymbolicTensor;
      return tf.model({ inputs: x, outputs: L.concatenate().apply([a, m]) as tf.SymbolicTensor });
    },
    ops: ['GlobalAveragePool', 'GlobalMaxPool', 'Concat'],
  },
  {
    name: 'Reshape to an image, Conv2D, Flatten; Dropout removed',
    input: [6],
    build: () =>
      seq([
        L.dense({ inputShape: [6], units: 24 }),
        L.dropout({ rate: 0.5 }),
        L.reshape({ targetShape: [2, 3, 4] }),
        L.conv2d({ filters: 2, kernelSize: [2, 2], padding: 'same' }),
        L.reshape({ targetShape: [-1] }),
      ]),
    ops: ['Reshape', 'Conv'],
  },
  {
    name: 'Permute',
    input: [3, 4],
    build: () => seq([L.permute({ inputShape: [3, 4], dims: [2, 1] }), L.dense({ units: 2 })]),
    ops: ['Transpose', 'MatMul', 'Add'],
  },
  {
    name: 'LSTM (hardSigmoid default) return sequences → GRU → Dense',
    input: [5, 3],
    build: () => seq([L.lstm({ inputShape: [5, 3], units: 4, returnSequences: true }), L.gru({ units: 3 }), L.dense({ units: 2 })]),
    ops: ['LSTM', 'GRU'],
  },
  {
    name: 'LSTM with sigmoid, SimpleRNN relu, GRU returning sequences + time-distributed Dense',
    input: [4, 2],
    build: () =>
      seq([
        L.lstm({ inputShape: [4, 2], units: 3, recurrentActivation: 'sigmoid', returnSequences: true }),
        L.gru({ units: 3, returnSequences: true }),
        L.dense({ units: 2 }),
        L.simpleRNN({ units: 2, activation: 'relu' }),
      ]),
    ops: ['LSTM', 'GRU', 'RNN'],
  },
  {
    name: 'Conv1D dilated same + MaxPooling1D; AveragePooling1D same; GlobalAveragePooling1D',
    input: [9, 2],
    build: () =>
      seq([
        L.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2 }),
        L.maxPooling1d({ poolSize: 2 }),
        L.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }),
        L.globalAveragePooling1d({}),
      ]),
    ops: ['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool'],
  },
  {
    name: 'Functional residual Add, Multiply, Average',
    input: [4, 3, 2],
    build: () => {
      const x = tf.input({ shape: [4, 3, 2] });
      const a = L.conv2d({ filters: 2, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
      const s = L.add().apply([a, x]) as tf.SymbolicTensor;
      const m = L.multiply().apply([s, x]) as tf.SymbolicTensor;
      return tf.model({ inputs: x, outputs: L.average().apply([m, a]) as tf.SymbolicTensor });
    },
    ops: ['Sum', 'Mul', 'Mean'],
  },
];

const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softmax',
  'logSoftmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
];
for (const a of ACTIVATIONS) {
  CASES.push({
    name: `activation ${a}`,
    input: [3, 6],
    build: () => seq([L.activation({ inputShape: [3, 6], activation: a as never })]),
    ops: [],
  });
}
CASES.push({
  name: 'activation layers LeakyReLU, ReLU(maxValue), ELU, PReLU, ThresholdedReLU, Softmax',
  input: [4, 5],
  build: () =>
    seq([
      L.leakyReLU({ inputShape: [4, 5], alpha: 0.17 }),
      L.reLU({ maxValue: 1.5 }),
      L.elu({}),
      L.prelu({}),
      L.thresholdedReLU({ theta: 0.2 }),
      L.softmax({ axis: -1 }),
    ]),
  ops: ['LeakyRelu', 'Clip', 'Elu', 'PRelu', 'ThresholdedRelu', 'Softmax'],
});
CASES.push({
  name: 'LeakyReLU on a channels-first tensor',
  input: [4, 5, 2],
  build: () => seq([L.conv2d({ inputShape: [4, 5, 2], filters: 3, kernelSize: 2 }), L.leakyReLU({}), L.softmax({ axis: -1 })]),
  ops: ['LeakyRelu', 'Softmax'],
});

/** Replaces every weight with random values (positive variances) so biases and statistics are exercised. */
function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w, i) => {
      const name = layer.weights[i]!.name;
      s += 1;
      return name.includes('moving_variance')
        ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', s)
        : tf.randomNormal(w.shape, 0, 0.4, 'float32', s);
    });
    if (values.length) layer.setWeights(values);
  }
}

const exported = new Map<string, ExportedModel>();
const samples = new Map<string, { data: Float32Array; dims: number[]; expected: Float32Array }>();

describe('exportTfjsModel matches model.predict', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(CASES)('$name', async (c) => {
    const model = c.build();
    randomizeWeights(model, CASES.indexOf(c) * 100);
    const ex = exportTfjsModel(model);
    const dims = [3, ...c.input];
    const x = tf.randomNormal(dims, 0, 1, 'float32', 7);
    const y = model.predict(x) as tf.Tensor;
    const expected = y.dataSync() as Float32Array;
    const got = await runOnnx(ex.bytes, x.dataSync() as Float32Array, dims);
    expect(got.dims).toEqual(y.shape);
    expect(maxAbsDiff(got.data, expected)).toBeLessThan(1e-4);
    for (const op of c.ops) expect(ex.ops).toContain(op);
    expect(ex.ops).not.toContain('Dropout');
    // Batch 1 through the same model: the batch dimension is dynamic.
    const one = await runOnnx(ex.bytes, (x.dataSync() as Float32Array).slice(0, x.size / 3), [1, ...c.input]);
    expect(maxAbsDiff(one.data, expected.slice(0, expected.length / 3))).toBeLessThan(1e-4);
    exported.set(c.name, ex);
    samples.set(c.name, { data: x.dataSync() as Float32Array, dims, expected });
  });

  it('writes opset 13, IR 7, a symbolic batch and the Keras input layout', () => {
    const ex = exported.get(CASES[1]!.name)!;
    const m = decodeModel(ex.bytes);
    expect(opsetVersion(m)).toBe(13);
    expect(m.irVersion).toBe(7);
    expect(m.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam ?? d.dimValue)).toEqual(['N', 9, 7, 3]);
    expect(ex.signature).toEqual({
      inputs: [{ name: 'input', dtype: 'float32', shape: [null, 9, 7, 3] }],
      outputs: [{ name: 'output', dtype: 'float32', shape: [null, 4] }],
    });
    // One transpose at the input and one before Flatten, no more.
    expect(m.graph?.node?.filter((n) => n.opType === 'Transpose')).toHaveLength(2);
  });

  it('loads and matches in onnxruntime-web (wasm)', async () => {
    for (const [name, ex] of exported) {
      const s = samples.get(name)!;
      const got = await runOnnx(ex.bytes, s.data, s.dims, 'web');
      expect(maxAbsDiff(got.data, s.expected), name).toBeLessThan(1e-4);
    }
  });

  it('refuses an unsupported layer, naming it and the supported layers', () => {
    const model = seq([L.conv2d({ inputShape: [4, 4, 1], filters: 1, kernelSize: 1 }), L.upSampling2d({ size: [2, 2] })]);
    const err = (() => {
      try {
        exportTfjsModel(model);
      } catch (e) {
        return e as ExportError;
      }
    })();
    expect(err).toBeInstanceOf(ExportError);
    expect(err?.code).toBe('EXPORT_UNSUPPORTED_LAYER');
    expect(err?.message).toMatch(/UpSampling2D/);
    expect(err?.message).toMatch(new RegExp(SUPPORTED_LAYERS.join(', ')));
    expect(err?.details?.layer).toBe(model.layers[1]!.name);
  });

  it('refuses settings it cannot reproduce', () => {
    const stateful = seq([L.lstm({ batchInputShape: [2, 3, 2], units: 2, stateful: true })]);
    expect(() => exportTfjsModel(stateful)).toThrow(expect.objectContaining({ code: 'EXPORT_UNSUPPORTED_CONFIG' }));
    const backwards = seq([L.gru({ inputShape: [3, 2], units: 2, goBackwards: true })]);
    expect(() => exportTfjsModel(backwards)).toThrow(/goBackwards/);
    expect(() => exportTfjsModel(seq([L.dense({ inputShape: [2], units: 1 })]), { opset: 11 })).toThrow(
      expect.objectContaining({ code: 'EXPORT_UNSUPPORTED_CONFIG' }),
    );
  });
});

describe.skipIf(onnxCheckerMissing())('exported models pass the ONNX checker (full_check)', () => {
  it('every exported model', () => {
    expect(exported.size).toBe(CASES.length);
    const results = onnxCheck(Object.fromEntries([...exported].map(([k, v]) => [k, v.bytes])));
    for (const [name, error] of Object.entries(results)) expect(error, name).toBeNull();
  });
});
