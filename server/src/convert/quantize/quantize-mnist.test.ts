// The MNIST MLP through export, static and dynamic int8 quantization, both runtimes and the report.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, foldInt8Weights } from '@flotilla/firmware-bundler/onnx';
import { onnxCheckerMissing } from '@flotilla/test/support/tools';
import { exportTfjsModel } from '../tfjs-export/export-tfjs-model.ts';
import { evaluateParity } from '../evaluate-parity.ts';
import { openSession } from '../ort-runner.ts';
import { quantizeWithReport } from '../quantize-with-report.ts';
import { argmaxRows, cachedMnistMlp, loadMnistSplit, type MnistSplit } from '../testing/mnist-mlp.ts';
import { runOnnx } from '../testing/model-runner.ts';
import { onnxCheck } from '../testing/onnx-checker.ts';
import { useTfjsWasm } from '../testing/tfjs-wasm-node.ts';
import { quantizeDynamic } from './quantize-dynamic.ts';
import { quantizeStatic, type QuantizedModel } from './quantize-static.ts';

let split: MnistSplit;
let floatBytes: Uint8Array;
let int8: QuantizedModel;
const work = mkdtempSync(path.join(tmpdir(), 'flotilla-mnist-q-'));
const calibration = () => ({ data: split.train.x.subarray(0, 512 * 784), shape: [512, 784] });
const testSet = () => ({ data: split.test.x, shape: [split.test.count, 784] });

/** Op types of the graph onnxruntime actually runs after its optimizations. */
async function optimizedOps(bytes: Uint8Array, name: string): Promise<string[]> {
  const file = path.join(work, `${name}.opt.onnx`);
  await (await openSession(bytes, { optimization: 'extended', optimizedModelPath: file })).release();
  return (decodeModel(new Uint8Array(readFileSync(file))).graph?.node ?? []).map((n) => n.opType ?? '');
}

function agreement(a: Float32Array, b: Float32Array): number {
  const pa = argmaxRows(a, 10);
  const pb = argmaxRows(b, 10);
  return pa.filter((p, i) => p === pb[i]).length / pa.length;
}

beforeAll(async () => {
  await useTfjsWasm();
  split = loadMnistSplit();
  floatBytes = exportTfjsModel(await cachedMnistMlp(split)).bytes;
  int8 = await quantizeStatic(floatBytes, calibration());
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('static int8 quantization of the MNIST MLP (784-256-128-10)', () => {
  it('is at most 28% of the float file and loses at most 0.5 accuracy points', async () => {
    const r = await evaluateParity({ floatBytes, int8Bytes: int8.bytes, inputs: testSet(), labels: split.test.y, latency: false });
    expect(r.sizeRatio).toBeLessThanOrEqual(0.28);
    expect(r.float.accuracy!).toBeGreaterThan(0.9);
    expect(r.accuracyDropPoints!).toBeLessThanOrEqual(0.5);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(r.samples).toBe(split.test.count);
    expect(r.maxAbsDiff).toBeGreaterThan(0);
    expect(int8.floatOps).toEqual(['Softmax']);
  });

  it('is QDQ that onnxruntime fuses into QGemm, with the Relus folded into the quantizers (zero point 0)', async () => {
    const ops = await optimizedOps(int8.bytes, 'static');
    expect(ops.filter((o) => o === 'QGemm')).toHaveLength(3);
    expect(ops).not.toContain('Relu');
    expect(ops).not.toContain('DequantizeLinear');
  });

  it('gives the same top-1 in onnxruntime-node and onnxruntime-web, raw and through the weight-folding adapter', async () => {
    const x = testSet();
    const node = await runOnnx(int8.bytes, x.data, x.shape, 'node');
    const web = await runOnnx(int8.bytes, x.data, x.shape, 'web');
    expect(agreement(node.data, web.data)).toBeGreaterThanOrEqual(0.995);
    const folded = foldInt8Weights(int8.bytes);
    expect((decodeModel(folded).graph?.node ?? []).some((n) => n.opType === 'DequantizeLinear')).toBe(false);
    const adapted = await runOnnx(folded, x.data, x.shape, 'web');
    expect(agreement(node.data, adapted.data)).toBeGreaterThanOrEqual(0.99);
  });

  it('calibrates with percentiles as well', async () => {
    const p = await quantizeStatic(floatBytes, calibration(), { calibration: { method: 'percentile', percentile: 99.99 } });
    expect(p.calibration).toEqual({ method: 'percentile', percentile: 99.99, samples: 512 });
    const r = await evaluateParity({ floatBytes, int8Bytes: p.bytes, inputs: testSet(), labels: split.test.y, latency: false });
    expect(r.accuracyDropPoints!).toBeLessThanOrEqual(0.5);
  });
});

describe('dynamic int8 quantization of the MNIST MLP', () => {
  it('fuses into DynamicQuantizeMatMul and loses at most 0.5 points', async () => {
    const d = await quantizeDynamic(floatBytes);
    expect(d.mode).toBe('dynamic');
    expect((await optimizedOps(d.bytes, 'dynamic')).filter((o) => o === 'DynamicQuantizeMatMul')).toHaveLength(3);
    const r = await evaluateParity({ floatBytes, int8Bytes: d.bytes, inputs: testSet(), labels: split.test.y, latency: false });
    expect(r.accuracyDropPoints!).toBeLessThanOrEqual(0.5);
    expect(r.sizeRatio).toBeLessThanOrEqual(0.28);
  });
});

describe('quantizeWithReport', () => {
  it('builds both modes for a dense model, keeps the faster, and reports parity and the gate', async () => {
    const { int8Bytes, report } = await quantizeWithReport({
      floatBytes,
      calibration: calibration(),
      evaluation: { inputs: { data: split.test.x.subarray(0, 500 * 784), shape: [500, 784] }, labels: split.test.y.subarray(0, 500) },
    });
    expect(Object.keys(report.candidates).sort()).toEqual(['dynamic', 'static']);
    expect(report.modeReason).toMatch(new RegExp(`^${report.mode}: faster`));
    expect(report.parity.int8.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.parity.int8.bytes).toBe(int8Bytes.length);
    expect(report.parity.float.latencyUs!.batchN).toBeGreaterThan(0);
    expect(report.parity.int8.latencyUs!.batch1).toBeGreaterThan(0);
    expect(report.gate).toMatchObject({ passed: true, allowed: true, failures: [] });
    expect(report.calibration === null).toBe(report.mode === 'dynamic');
    const strict = await quantizeWithReport({
      floatBytes,
      mode: 'static',
      calibration: calibration(),
      evaluation: { inputs: { data: split.test.x.subarray(0, 200 * 784), shape: [200, 784] }, labels: split.test.y.subarray(0, 200) },
      gate: { minTop1Agreement: 1.01 },
      override: { by: 'operator@example.com', reason: 'accepted for the pilot fleet' },
    });
    expect(strict.report.mode).toBe('static');
    expect(strict.report.gate.passed).toBe(false);
    expect(strict.report.gate.allowed).toBe(true);
    expect(strict.report.gate.override).toMatchObject({ by: 'operator@example.com', reason: 'accepted for the pilot fleet' });
  }, 60_000);
});

describe.skipIf(onnxCheckerMissing())('MNIST models pass the ONNX checker (full_check)', () => {
  it('float, static int8, dynamic int8 and the folded model', async () => {
    const dynamic = await quantizeDynamic(floatBytes);
    const results = onnxCheck({ float: floatBytes, static: int8.bytes, dynamic: dynamic.bytes, folded: foldInt8Weights(int8.bytes) });
    expect(results).toEqual({ float: null, static: null, dynamic: null, folded: null });
  });
});
