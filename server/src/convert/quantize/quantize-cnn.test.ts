// A small CNN (Conv + BatchNorm + Relu + MaxPool + Dense) through static int8 quantization, checked for agreement and fusions.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, foldInt8Weights } from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { exportTfjsModel } from '../tfjs-export/export-tfjs-model.ts';
import { evaluateParity } from '../evaluate-parity.ts';
import { openSession } from '../ort-runner.ts';
import { FROZEN_CNN_TRAIN_ROWS, trainFrozenMnistCnn } from '../testing/mnist-cnn.ts';
import { argmaxRows, loadMnistSplit, type MnistSplit } from '../testing/mnist-mlp.ts';
import { runOnnx } from '../testing/model-runner.ts';
import { onnxCheck } from '../testing/onnx-checker.ts';
import { useTfjsWasm } from '../testing/tfjs-wasm-node.ts';
import { quantizeStatic, type QuantizedModel } from './quantize-static.ts';
import { quantizeDynamic } from './quantize-dynamic.ts';

let split: MnistSplit;
let floatBytes: Uint8Array;
let int8: QuantizedModel;
const work = mkdtempSync(path.join(tmpdir(), 'flotilla-cnn-q-'));
const TEST = 1000;
const testSet = () => ({ data: split.test.x.subarray(0, TEST * 784), shape: [TEST, 28, 28, 1] });

beforeAll(async () => {
  await useTfjsWasm();
  split = loadMnistSplit();
  floatBytes = exportTfjsModel(await trainFrozenMnistCnn(split)).bytes;
  const n = FROZEN_CNN_TRAIN_ROWS;
  int8 = await quantizeStatic(floatBytes, { data: split.train.x.subarray(n * 784, (n + 256) * 784), shape: [256, 28, 28, 1] });
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('static int8 quantization of a small CNN', () => {
  it('agrees with the float model on held-out digits', async () => {
    const r = await evaluateParity({
      floatBytes,
      int8Bytes: int8.bytes,
      inputs: testSet(),
      labels: split.test.y.subarray(0, TEST),
      latency: false,
    });
    // Random frozen filters reach about 84% here; enough for agreement to mean something.
    expect(r.float.accuracy!).toBeGreaterThan(0.8);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.98);
    expect(r.accuracyDropPoints!).toBeLessThanOrEqual(1);
    // Names, scales and zero points outweigh 3k weights here; the MNIST test checks the size goal.
    expect(r.sizeRatio).toBeLessThan(1);
  });

  it('folds BatchNormalization into the Conv and lets onnxruntime fuse QLinearConv, Relu and MaxPool', async () => {
    expect(int8.notes).toContain('folded 1 BatchNormalization node(s) into the preceding Conv/Gemm');
    const ops = (decodeModel(int8.bytes).graph?.node ?? []).map((n) => n.opType);
    expect(ops).not.toContain('BatchNormalization');
    const file = path.join(work, 'cnn.opt.onnx');
    await (await openSession(int8.bytes, { optimization: 'extended', optimizedModelPath: file })).release();
    const optimized = (decodeModel(new Uint8Array(readFileSync(file))).graph?.node ?? []).map((n) => n.opType ?? '');
    expect(optimized.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(optimized).not.toContain('Relu');
    // MaxPool runs on uint8 with its QDQ dropped, so the only DequantizeLinear left feeds nothing but the classifier.
    expect(optimized).toContain('QGemm');
    expect(optimized.filter((o) => o === 'DequantizeLinear')).toHaveLength(0);
  });

  it('gives the same top-1 in onnxruntime-node and onnxruntime-web, raw and adapted', async () => {
    const x = testSet();
    const node = argmaxRows((await runOnnx(int8.bytes, x.data, x.shape, 'node')).data, 10);
    const web = argmaxRows((await runOnnx(int8.bytes, x.data, x.shape, 'web')).data, 10);
    const adapted = argmaxRows((await runOnnx(foldInt8Weights(int8.bytes), x.data, x.shape, 'web')).data, 10);
    expect(web.filter((p, i) => p === node[i]).length / TEST).toBeGreaterThanOrEqual(0.995);
    expect(adapted.filter((p, i) => p === node[i]).length / TEST).toBeGreaterThanOrEqual(0.98);
  });

  it('refuses dynamic quantization of a convolutional model', async () => {
    await expect(quantizeDynamic(floatBytes)).rejects.toMatchObject({ code: 'QUANT_DYNAMIC_UNSUPPORTED' });
  });

  it.skipIf(onnxCheckerMissing())('passes the ONNX checker (full_check), float and int8', () => {
    expect(onnxCheck({ float: floatBytes, int8: int8.bytes, folded: foldInt8Weights(int8.bytes) })).toEqual({
      float: null,
      int8: null,
      folded: null,
    });
  });
});
