// What the quantizer upgrades (old opsets, PyTorch-style graphs) and what it refuses rather than produce a wrong model.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { decodeModel, float, floatTensor, makeNode, opsetVersion } from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { evaluateParity } from '../evaluate-parity.ts';
import { exportTfjsModel } from '../tfjs-export/export-tfjs-model.ts';
import { openSession } from '../ort-runner.ts';
import { modelOf, pytorchLikeMlp, randomNormal } from '../testing/onnx-fixtures.ts';
import { onnxCheck } from '../testing/onnx-checker.ts';
import { verifyUpgrade } from '../upgrade/verify-upgrade.ts';
import { prepareForQuantization } from './prepare-graph.ts';
import { quantizeDynamic } from './quantize-dynamic.ts';
import { quantizeStatic } from './quantize-static.ts';

const work = mkdtempSync(path.join(tmpdir(), 'flotilla-q-refuse-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const samples = (n: number, width: number, seed: number) => ({ data: randomNormal(n * width, seed), shape: [n, width] });
const checked: Record<string, Uint8Array> = {};

async function optimizedOps(bytes: Uint8Array, name: string): Promise<string[]> {
  const file = path.join(work, `${name}.onnx`);
  await (await openSession(bytes, { optimization: 'extended', optimizedModelPath: file })).release();
  return (decodeModel(new Uint8Array(readFileSync(file))).graph?.node ?? []).map((n) => n.opType ?? '');
}

/** Opset 10 classifier: Gemm, Clip with min/max attributes, Unsqueeze/Squeeze with axes attributes, Softmax(axis=1). */
function opset10Model(): Uint8Array {
  return modelOf(
    10,
    [
      makeNode('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: 1 }),
      makeNode('Clip', ['h'], ['c'], { min: float(0), max: float(6) }),
      makeNode('Unsqueeze', ['c'], ['u'], { axes: [2] }),
      makeNode('Squeeze', ['u'], ['s'], { axes: [2] }),
      makeNode('Gemm', ['s', 'w2', 'b2'], ['logits']),
      makeNode('Softmax', ['logits'], ['y'], { axis: 1 }),
    ],
    [
      floatTensor('w1', [16, 10], randomNormal(160, 11, 0.5)),
      floatTensor('b1', [16], randomNormal(16, 12, 0.2)),
      floatTensor('w2', [16, 5], randomNormal(80, 13, 0.5)),
      floatTensor('b2', [5], randomNormal(5, 14, 0.2)),
    ],
    [10],
    [5],
  );
}

describe('models made elsewhere', () => {
  it('quantizes a PyTorch-style MLP (transB=1 Gemm, MatMul + Add) into fused int8 kernels', async () => {
    const floatBytes = pytorchLikeMlp();
    const q = await quantizeStatic(floatBytes, samples(256, 12, 21));
    const r = await evaluateParity({ floatBytes, int8Bytes: q.bytes, inputs: samples(1000, 12, 22), latency: false });
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.97);
    expect(r.accuracyDropPoints).toBeNull();
    const ops = await optimizedOps(q.bytes, 'pytorch');
    expect(ops).toContain('QGemm');
    // The MatMul + Add pair became a Gemm before quantization, so all three layers run as QGemm.
    expect(ops.filter((o) => o === 'QGemm')).toHaveLength(3);
    expect(q.notes).toContain('fused 1 MatMul + Add pair(s) into Gemm');
    checked.pytorch = q.bytes;
    const d = await quantizeDynamic(floatBytes);
    const rd = await evaluateParity({ floatBytes, int8Bytes: d.bytes, inputs: samples(1000, 12, 22), latency: false });
    expect(rd.top1Agreement).toBeGreaterThanOrEqual(0.97);
    checked.pytorchDynamic = d.bytes;
  });

  it('upgrades opset 10 to 13 (Clip, Squeeze, Unsqueeze attributes become inputs; 2-D Softmax keeps its meaning)', async () => {
    const floatBytes = opset10Model();
    const q = await quantizeStatic(floatBytes, samples(256, 10, 31));
    expect(q.notes).toContain('upgraded opset 10 → 13 (rewrote Clip, Softmax, Squeeze, Unsqueeze)');
    expect(opsetVersion(decodeModel(q.bytes))).toBe(13);
    const r = await evaluateParity({ floatBytes, int8Bytes: q.bytes, inputs: samples(1000, 10, 32), latency: false });
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.97);
    expect(r.maxAbsDiff).toBeLessThan(0.1);
    checked.opset10 = q.bytes;
  });

  it('quantizes an upgraded model dynamically only after checking the rewrite on sample inputs', async () => {
    const floatBytes = opset10Model();
    await expect(quantizeDynamic(floatBytes)).rejects.toMatchObject({
      code: 'QUANT_BAD_CALIBRATION',
      message: expect.stringMatching(/rewrote Clip, Softmax, Squeeze, Unsqueeze; give sample inputs/),
    });
    const d = await quantizeDynamic(floatBytes, { samples: samples(64, 10, 33) });
    const r = await evaluateParity({ floatBytes, int8Bytes: d.bytes, inputs: samples(1000, 10, 32), latency: false });
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.97);
  });
});

describe('sensitive ops', () => {
  it('leaves recurrent cells and a sigmoid head in float while quantizing the dense layers around them', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [
        tf.layers.lstm({
          inputShape: [6, 3],
          units: 8,
          returnSequences: true,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        tf.layers.gru({ units: 6, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    const floatBytes = exportTfjsModel(model).bytes;
    const q = await quantizeStatic(floatBytes, { data: randomNormal(128 * 18, 51), shape: [128, 6, 3] });
    expect(q.floatOps).toEqual(expect.arrayContaining(['LSTM', 'GRU', 'Sigmoid']));
    expect(q.quantizedWeights).toBe(2);
    const r = await evaluateParity({
      floatBytes,
      int8Bytes: q.bytes,
      inputs: { data: randomNormal(200 * 18, 52), shape: [200, 6, 3] },
      latency: false,
    });
    expect(r.maxAbsDiff).toBeLessThan(0.05);
    checked.recurrent = q.bytes;
  });
});

describe('refusals', () => {
  const calib = samples(16, 4, 41);
  const w = floatTensor('w', [4, 3], randomNormal(12, 42));

  /** The normalised float model computes what the original does (onnxruntime, rel. L2 ≤ 1e-5) and quantizes at opset 13. */
  async function expectUpgraded(bytes: Uint8Array, set: { data: Float32Array; shape: number[] }, rewrote: RegExp, key: string) {
    const prepared = prepareForQuantization(bytes);
    expect(prepared.notes.join('; ')).toMatch(rewrote);
    const feed = { x: new ort.Tensor('float32', set.data, set.shape) };
    const check = await verifyUpgrade(bytes, prepared.normalised!.bytes, [feed], prepared.normalised!.ops);
    expect(check.maxRelL2).toBeLessThanOrEqual(1e-5);
    const q = await quantizeStatic(bytes, set);
    expect(opsetVersion(decodeModel(q.bytes))).toBe(13);
    checked[key] = q.bytes;
  }

  it('upgrades opset 6 (the oldest onnxruntime runs) and checks the result against the original', async () => {
    const bytes = modelOf(6, [makeNode('MatMul', ['x', 'w'], ['y'])], [w], [4], [3], 3);
    await expectUpgraded(bytes, samples(16, 4, 41), /upgraded opset 6 → 13/, 'opset6');
  });

  it('carries an opset-9 Upsample over as Resize (asymmetric, floor), checked against the original', async () => {
    const bytes = modelOf(
      9,
      [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('Upsample', ['m', 's'], ['y'])],
      [w, floatTensor('s', [2], [1, 2])],
      [4],
      undefined,
      4,
    );
    await expectUpgraded(bytes, samples(16, 4, 41), /rewrote .*Upsample/, 'upsample');
  });

  it('carries an old Softmax over axis 1 of a rank-3 tensor over as Flatten → Softmax → Reshape', async () => {
    const w3 = floatTensor('w', [4, 5], randomNormal(20, 43));
    const bytes = modelOf(11, [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('Softmax', ['m'], ['y'])], [w3], [3, 4], [3, 5]);
    await expectUpgraded(bytes, { data: randomNormal(16 * 12, 44), shape: [16, 3, 4] }, /rewrote .*Softmax/, 'softmax');
  });

  it('quantizes a detector whose weights sit in Constant nodes', async () => {
    const bytes = modelOf(11, [makeNode('Constant', [], ['w'], { value: w }), makeNode('MatMul', ['x', 'w'], ['y'])], [], [4], [3]);
    const q = await quantizeStatic(bytes, calib);
    expect(q.quantizedWeights).toBe(1);
    expect(q.notes).toContain('moved 1 Constant node(s) into initializers');
  });

  it('refuses an old op that opset 13 has no definition for (ATen, an arbitrary PyTorch kernel), naming it', async () => {
    const bytes = modelOf(9, [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('ATen', ['m'], ['y'], { operator: 'roll' })], [w], [4], [3]);
    await expect(quantizeStatic(bytes, calib)).rejects.toMatchObject({
      code: 'QUANT_OPSET_TOO_OLD',
      message: expect.stringMatching(/ATen.*PyTorch kernel/),
    });
  });

  it('refuses custom ops, control flow and already-quantized models', async () => {
    const custom = modelOf(
      13,
      [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('Frobnicate', ['m'], ['y'], {}, undefined, 'com.example')],
      [w],
      [4],
      [3],
    );
    await expect(quantizeStatic(custom, calib)).rejects.toMatchObject({
      code: 'QUANT_UNSUPPORTED_OP',
      message: expect.stringMatching(/Frobnicate/),
    });
    const branch = { name: 'b', node: [makeNode('Identity', ['m'], ['o'])], output: [{ name: 'o' }] };
    const ctrl = modelOf(
      13,
      [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('If', ['c'], ['y'], { then_branch: branch, else_branch: branch })],
      [w, floatTensor('c', [], [1])],
      [4],
      [3],
    );
    await expect(quantizeStatic(ctrl, calib)).rejects.toMatchObject({ code: 'QUANT_UNSUPPORTED_OP', message: expect.stringMatching(/If/) });
    const once = await quantizeStatic(
      modelOf(13, [makeNode('MatMul', ['x', 'w'], ['m']), makeNode('Relu', ['m'], ['y'])], [w], [4], [3]),
      calib,
    );
    await expect(quantizeStatic(once.bytes, calib)).rejects.toMatchObject({
      code: 'QUANT_UNSUPPORTED_OP',
      message: expect.stringMatching(/already quantized/),
    });
  });

  it('refuses calibration data that does not fit, and graphs with nothing to quantize', async () => {
    const bytes = modelOf(13, [makeNode('MatMul', ['x', 'w'], ['y'])], [w], [4], [3]);
    await expect(quantizeStatic(bytes, { data: new Float32Array(15), shape: [3, 5] })).rejects.toMatchObject({
      code: 'QUANT_BAD_CALIBRATION',
    });
    await expect(quantizeStatic(bytes, [])).rejects.toMatchObject({ code: 'QUANT_BAD_CALIBRATION' });
    await expect(quantizeStatic(bytes, [new Float32Array(5)])).rejects.toMatchObject({ code: 'QUANT_BAD_CALIBRATION' });
    const relu = modelOf(13, [makeNode('Relu', ['x'], ['y'])], [], [4], [4]);
    await expect(quantizeStatic(relu, calib)).rejects.toMatchObject({ code: 'QUANT_NOTHING_TO_QUANTIZE' });
    await expect(quantizeStatic(new Uint8Array([1, 2, 3]), calib)).rejects.toMatchObject({ code: 'ONNX_INVALID' });
  });
});

describe.skipIf(onnxCheckerMissing())('quantized imported models pass the ONNX checker (full_check)', () => {
  it('PyTorch-style static and dynamic, upgraded opsets 6, 9 (Upsample), 10 and 11 (Softmax), recurrent', () => {
    expect(Object.keys(checked).sort()).toEqual(['opset10', 'opset6', 'pytorch', 'pytorchDynamic', 'recurrent', 'softmax', 'upsample']);
    expect(onnxCheck(checked)).toEqual({
      pytorch: null,
      pytorchDynamic: null,
      opset10: null,
      recurrent: null,
      opset6: null,
      upsample: null,
      softmax: null,
    });
  });
});
