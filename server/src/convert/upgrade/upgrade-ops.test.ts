// Each op whose definition changed before opset 13, written the old way, normalised, and run against the original in
// onnxruntime (rel. L2 ≤ 1e-5), then through the official ONNX checker; and what is refused instead.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  float,
  floats,
  floatTensor,
  int64Tensor,
  makeModel,
  makeNode,
  makeValueInfo,
  normalizeModel,
  opsetVersion,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { onnxCheck } from '../testing/onnx-checker.ts';
import { randomNormal } from '../testing/onnx-fixtures.ts';
import { verifyUpgrade } from './verify-upgrade.ts';

interface Case {
  opset: number;
  nodes: NodeProto[];
  inits?: TensorProto[];
  /** Input dims (all inputs float32). */
  inputs: Record<string, number[]>;
  outputs: string[];
  /** Op types the upgrade must report as rewritten. */
  rewrote: string[];
}

const normalised: Record<string, Uint8Array> = {};

function modelBytes(c: Case): Uint8Array {
  const graph = {
    name: 'g',
    node: c.nodes,
    initializer: c.inits ?? [],
    input: Object.entries(c.inputs).map(([name, dims]) => makeValueInfo(name, DataType.FLOAT, dims)),
    output: c.outputs.map((name) => makeValueInfo(name, DataType.FLOAT)),
  };
  return encodeModel(makeModel(graph, { opset: c.opset, irVersion: c.opset < 7 ? 3 : 4 }));
}

async function carriedOver(name: string, c: Case): Promise<void> {
  const bytes = modelBytes(c);
  const model = decodeModel(bytes);
  const report = normalizeModel(model);
  expect(opsetVersion(model)).toBe(13);
  expect(report.upgrade.rewritten).toEqual(expect.arrayContaining(c.rewrote));
  const out = encodeModel(model);
  const feeds = [0, 1].map((k) =>
    Object.fromEntries(
      Object.entries(c.inputs).map(([n, dims], i) => [
        n,
        new ort.Tensor(
          'float32',
          randomNormal(
            dims.reduce((a, b) => a * b, 1),
            100 + 10 * k + i,
          ),
          dims,
        ),
      ]),
    ),
  );
  const check = await verifyUpgrade(bytes, out, feeds, report.upgrade.rewritten);
  expect(check.maxRelL2).toBeLessThanOrEqual(1e-5);
  normalised[name] = out;
}

const CASES: Record<string, Case> = {
  'Slice-9 (attributes → inputs, end past the dim)': {
    opset: 9,
    nodes: [makeNode('Slice', ['x'], ['y'], { starts: [1, -4], ends: [1000, -1], axes: [1, 2] })],
    inputs: { x: [2, 6, 5] },
    outputs: ['y'],
    rewrote: ['Slice'],
  },
  'Upsample-9 nearest (→ Resize asymmetric/floor)': {
    opset: 9,
    nodes: [makeNode('Upsample', ['x', 's'], ['y'], { mode: 'nearest' })],
    inits: [floatTensor('s', [4], [1, 1, 2, 3])],
    inputs: { x: [1, 2, 3, 4] },
    outputs: ['y'],
    rewrote: ['Upsample'],
  },
  'Upsample-7 linear (scales attribute)': {
    opset: 7,
    nodes: [makeNode('Upsample', ['x'], ['y'], { mode: 'linear', scales: floats([1, 1, 2, 2]) })],
    inputs: { x: [1, 2, 3, 4] },
    outputs: ['y'],
    rewrote: ['Upsample'],
  },
  'Resize-10 nearest and linear': {
    opset: 10,
    nodes: [makeNode('Resize', ['x', 's'], ['a'], { mode: 'nearest' }), makeNode('Resize', ['x', 's'], ['b'], { mode: 'linear' })],
    inits: [floatTensor('s', [4], [1, 1, 2, 1.5])],
    inputs: { x: [1, 2, 3, 4] },
    outputs: ['a', 'b'],
    rewrote: ['Resize'],
  },
  'Pad-9 constant and reflect': {
    opset: 9,
    nodes: [
      makeNode('Pad', ['x'], ['a'], { pads: [0, 1, 2, 0, 0, 2, 1, 0], value: float(1.5) }),
      makeNode('Pad', ['x'], ['b'], { mode: 'reflect', pads: [0, 0, 1, 2, 0, 0, 2, 1] }),
    ],
    inputs: { x: [1, 2, 4, 5] },
    outputs: ['a', 'b'],
    rewrote: ['Pad'],
  },
  'Clip-9 (min/max attributes, one missing)': {
    opset: 9,
    nodes: [makeNode('Clip', ['x'], ['a'], { min: float(-0.5), max: float(0.7) }), makeNode('Clip', ['x'], ['b'], { max: float(0.2) })],
    inputs: { x: [3, 4] },
    outputs: ['a', 'b'],
    rewrote: ['Clip'],
  },
  'Squeeze/Unsqueeze-11, ReduceSum-11, ReduceMean/ReduceMax, Pow': {
    opset: 11,
    nodes: [
      makeNode('Unsqueeze', ['x'], ['u'], { axes: [0, -1] }),
      makeNode('ReduceSum', ['u'], ['s'], { axes: [2], keepdims: 1 }),
      makeNode('Squeeze', ['s'], ['q'], { axes: [0, 2] }),
      makeNode('ReduceMean', ['x'], ['m'], { axes: [-1] }),
      makeNode('ReduceMax', ['x'], ['mx'], { keepdims: 0 }),
      makeNode('Pow', ['x', 'e'], ['p']),
    ],
    inits: [floatTensor('e', [], [2])],
    inputs: { x: [3, 4] },
    outputs: ['q', 'm', 'mx', 'p'],
    rewrote: ['ReduceSum', 'Squeeze', 'Unsqueeze'],
  },
  'Split-9 (split attribute)': {
    opset: 9,
    nodes: [makeNode('Split', ['x'], ['a', 'b'], { axis: 1, split: [2, 4] }), makeNode('Concat', ['b', 'a'], ['y'], { axis: 1 })],
    inputs: { x: [2, 6] },
    outputs: ['y'],
    rewrote: ['Split'],
  },
  'Softmax-9 axis 1 of rank 4, LogSoftmax-11 axis -2 of rank 3, Hardmax-9 last axis': {
    opset: 11,
    nodes: [
      makeNode('Softmax', ['x'], ['a'], { axis: 1 }),
      makeNode('LogSoftmax', ['z'], ['b'], { axis: -2 }),
      makeNode('Hardmax', ['z'], ['c'], { axis: 2 }),
    ],
    inputs: { x: [2, 3, 2, 4], z: [2, 3, 5] },
    outputs: ['a', 'b', 'c'],
    rewrote: ['Hardmax', 'LogSoftmax', 'Softmax'],
  },
  'Softmax-9 default axis on rank 3 with a dynamic batch (rank known, dims not)': {
    opset: 9,
    nodes: [makeNode('Softmax', ['x'], ['y'])],
    inputs: { x: [2, 3, 4] },
    outputs: ['y'],
    rewrote: ['Softmax'],
  },
  'BatchNormalization-7 (spatial=1), Dropout-7 and Gemm-7 (broadcast C)': {
    opset: 7,
    nodes: [
      makeNode('BatchNormalization', ['x', 'g', 'b', 'mu', 'var'], ['n'], { spatial: 1, epsilon: float(1e-3) }),
      makeNode('Dropout', ['n'], ['d', 'mask'], { ratio: float(0.3) }),
      makeNode('Flatten', ['d'], ['f'], { axis: 1 }),
      makeNode('Gemm', ['f', 'w', 'c'], ['y'], { transB: 1, alpha: float(0.5) }),
    ],
    inits: [
      floatTensor('g', [3], [1, 2, 0.5]),
      floatTensor('b', [3], [0.1, -0.2, 0]),
      floatTensor('mu', [3], [0.3, 0, -1]),
      floatTensor('var', [3], [1, 0.5, 2]),
      floatTensor('w', [5, 12], randomNormal(60, 5)),
      floatTensor('c', [5], randomNormal(5, 6)),
    ],
    inputs: { x: [2, 3, 2, 2] },
    outputs: ['y'],
    rewrote: ['BatchNormalization', 'Dropout'],
  },
  'MaxPool/AveragePool-10 (ceil_mode, dilations, count_include_pad), Cast, Transpose, Gather, TopK-9': {
    opset: 10,
    nodes: [
      makeNode('MaxPool', ['x'], ['mp'], { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 1], ceil_mode: 1 }),
      makeNode('AveragePool', ['x'], ['ap'], {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        ceil_mode: 1,
        count_include_pad: 1,
      }),
      makeNode('Cast', ['x'], ['i'], { to: DataType.INT32 }),
      makeNode('Cast', ['i'], ['fi'], { to: DataType.FLOAT }),
      makeNode('Transpose', ['fi'], ['t'], { perm: [0, 2, 3, 1] }),
      makeNode('Gather', ['t', 'idx'], ['gt'], { axis: 1 }),
    ],
    inits: [int64Tensor('idx', [2], [4, 0])],
    inputs: { x: [1, 2, 7, 7] },
    outputs: ['mp', 'ap', 'gt'],
    rewrote: [],
  },
  'TopK-9 (k attribute)': {
    opset: 9,
    nodes: [makeNode('TopK', ['x'], ['v', 'ix'], { k: 2, axis: 1 })],
    inputs: { x: [3, 5] },
    outputs: ['v'],
    rewrote: ['TopK'],
  },
  'LSTM-7 and GRU-7 (bidirectional)': {
    opset: 7,
    nodes: [
      makeNode('LSTM', ['x', 'lw', 'lr', 'lb'], ['ly'], { hidden_size: 4 }),
      makeNode('Squeeze', ['ly'], ['ls'], { axes: [1] }),
      makeNode('GRU', ['ls', 'gw', 'gr'], ['gy', 'gh'], { hidden_size: 3, direction: 'bidirectional', linear_before_reset: 1 }),
    ],
    inits: [
      floatTensor('lw', [1, 16, 3], randomNormal(48, 7, 0.5)),
      floatTensor('lr', [1, 16, 4], randomNormal(64, 8, 0.5)),
      floatTensor('lb', [1, 32], randomNormal(32, 9, 0.1)),
      floatTensor('gw', [2, 9, 4], randomNormal(72, 10, 0.5)),
      floatTensor('gr', [2, 9, 3], randomNormal(54, 11, 0.5)),
    ],
    inputs: { x: [5, 2, 3] },
    outputs: ['gy', 'gh'],
    rewrote: ['Squeeze'],
  },
};

describe('ops carried over to opset 13, checked in onnxruntime against the original', () => {
  for (const [name, c] of Object.entries(CASES)) it(name, () => carriedOver(name, c));

  it('folds a shape sub-graph (Shape → Gather → Unsqueeze → Concat → Reshape) when the shape is static', async () => {
    const c: Case = {
      opset: 9,
      nodes: [
        makeNode('Shape', ['x'], ['s']),
        makeNode('Constant', [], ['zero'], { value: int64Tensor('zero', [], [0]) }),
        makeNode('Gather', ['s', 'zero'], ['n'], { axis: 0 }),
        makeNode('Unsqueeze', ['n'], ['n1'], { axes: [0] }),
        makeNode('Constant', [], ['minus'], { value: int64Tensor('minus', [1], [-1]) }),
        makeNode('Concat', ['n1', 'minus'], ['shape'], { axis: 0 }),
        makeNode('Reshape', ['x', 'shape'], ['r']),
        makeNode('Identity', ['r'], ['y']),
      ],
      inputs: { x: [2, 3, 4] },
      outputs: ['y'],
      rewrote: ['Unsqueeze'],
    };
    await carriedOver('shape-fold', c);
    expect(decodeModel(normalised['shape-fold']!).graph?.node?.map((n) => n.opType)).toEqual(['Reshape']);
  });

  it('rewrites opset-6 legacy broadcasting along an axis (onnxruntime has no Add-6: checked against the numpy-style equivalent)', async () => {
    const legacy: Case = {
      opset: 6,
      nodes: [makeNode('Add', ['x', 'b'], ['a'], { broadcast: 1, axis: 1 }), makeNode('Mul', ['a', 'b'], ['y'], { broadcast: 1, axis: 1 })],
      inits: [floatTensor('b', [3], [1, -2, 3])],
      inputs: { x: [2, 3, 4] },
      outputs: ['y'],
      rewrote: ['Add', 'Mul'],
    };
    const model = decodeModel(modelBytes(legacy));
    expect(normalizeModel(model).upgrade.rewritten).toEqual(['Add', 'Mul']);
    const reference = modelBytes({
      ...legacy,
      opset: 13,
      nodes: [makeNode('Add', ['x', 'b'], ['a']), makeNode('Mul', ['a', 'b'], ['y'])],
      inits: [floatTensor('b', [3, 1], [1, -2, 3])],
    });
    const feed = { x: new ort.Tensor('float32', randomNormal(24, 4), [2, 3, 4]) };
    expect((await verifyUpgrade(reference, encodeModel(model), [feed], ['Add', 'Mul'])).maxRelL2).toBeLessThanOrEqual(1e-5);
    normalised['legacy-broadcast'] = encodeModel(model);
  });

  it('refuses a change it cannot verify as exact: BatchNormalization-7 with spatial=0 on a rank-4 tensor', () => {
    const model = decodeModel(
      modelBytes({
        opset: 7,
        nodes: [makeNode('BatchNormalization', ['x', 'g', 'b', 'mu', 'var'], ['y'], { spatial: 0 })],
        inits: ['g', 'b', 'mu', 'var'].map((n) => floatTensor(n, [2, 2, 2], new Float32Array(8).fill(1))),
        inputs: { x: [1, 2, 2, 2] },
        outputs: ['y'],
        rewrote: [],
      }),
    );
    expect(() => normalizeModel(model)).toThrow(
      expect.objectContaining({ code: 'ONNX_UPGRADE_REFUSED', op: 'BatchNormalization', reason: expect.stringMatching(/spatial=0/) }),
    );
  });

  it('refuses a rewrite that does not compute the same, naming the ops', async () => {
    const c = CASES['Clip-9 (min/max attributes, one missing)']!;
    const wrong = modelBytes({ ...c, opset: 13, nodes: [makeNode('Relu', ['x'], ['a']), makeNode('Relu', ['x'], ['b'])] });
    const feed = { x: new ort.Tensor('float32', randomNormal(12, 3), [3, 4]) };
    await expect(verifyUpgrade(modelBytes(c), wrong, [feed], ['Clip'])).rejects.toMatchObject({
      code: 'UPGRADE_MISMATCH',
      message: expect.stringMatching(/ops carried over: Clip/),
    });
  });
});

describe.skipIf(onnxCheckerMissing())('normalised models pass the ONNX checker (full_check)', () => {
  it('every case above', () => {
    expect(Object.keys(normalised)).toHaveLength(Object.keys(CASES).length + 2);
    const results = onnxCheck(normalised);
    expect(Object.fromEntries(Object.entries(results).filter(([, v]) => v !== null))).toEqual({});
  });
});
