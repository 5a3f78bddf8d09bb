// `npm run bench -- int8-range`: what 7-bit int8 weights (exact on every CPU) cost against full 8-bit weights,
// in accuracy and speed, for the MNIST MLP and a small MNIST CNN, measured side by side in one run.
import * as ort from 'onnxruntime-node';
import { exportTfjsModel } from '../convert/tfjs-export/export-tfjs-model.ts';
import { evaluateParity } from '../convert/evaluate-parity.ts';
import { medianLatencies } from '../convert/latency.ts';
import { quantizeStatic } from '../convert/quantize/quantize-static.ts';
import { FROZEN_CNN_TRAIN_ROWS, trainFrozenMnistCnn } from '../convert/testing/mnist-cnn.ts';
import { argmaxRows, cachedMnistMlp, loadMnistSplit, type MnistSplit } from '../convert/testing/mnist-mlp.ts';
import { useTfjsWasm } from '../convert/testing/tfjs-wasm-node.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { machineSummary } from './machine.ts';

interface Row {
  model: string;
  floatAccuracy: number;
  /** Accuracy and agreement of each variant as this CPU's fused int8 kernels run it. */
  q7: { accuracy: number; agreement: number; batch1Us: number; batch64Us: number };
  q8: { accuracy: number; agreement: number; batch1Us: number; batch64Us: number };
  /** Full-range weights without integer kernels (QDQ reference semantics): what a VNNI CPU computes. */
  q8Reference: { accuracy: number; agreement: number };
}

async function accuracyOf(
  bytes: Uint8Array,
  x: Float32Array,
  shape: number[],
  labels: ArrayLike<number>,
  reference: Int32Array | null,
  optimization: 'all' | 'disabled',
) {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: optimization });
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, shape) });
  await s.release();
  const pred = argmaxRows(out[s.outputNames[0]!]!.data as Float32Array, 10);
  let correct = 0;
  let agree = 0;
  pred.forEach((p, i) => {
    if (p === Number(labels[i])) correct++;
    if (reference && p === reference[i]) agree++;
  });
  return { accuracy: correct / pred.length, agreement: reference ? agree / pred.length : 1, pred };
}

async function compare(
  name: string,
  floatBytes: Uint8Array,
  split: MnistSplit,
  calibrationStart: number,
  featureShape: number[],
  quick: boolean,
): Promise<Row> {
  const calibration = {
    data: split.train.x.subarray(calibrationStart * 784, (calibrationStart + 256) * 784),
    shape: [256, ...featureShape],
  };
  const q7 = await quantizeStatic(floatBytes, calibration);
  const q8 = await quantizeStatic(floatBytes, calibration, { weightQmax: 127 });
  const n = split.test.count;
  const shape = [n, ...featureShape];
  const f = await accuracyOf(floatBytes, split.test.x, shape, split.test.y, null, 'all');
  const a7 = await accuracyOf(q7.bytes, split.test.x, shape, split.test.y, f.pred, 'all');
  const a8 = await accuracyOf(q8.bytes, split.test.x, shape, split.test.y, f.pred, 'all');
  const r8 = await accuracyOf(q8.bytes, split.test.x, shape, split.test.y, f.pred, 'disabled');
  const sessions = await Promise.all([q7.bytes, q8.bytes].map((b) => ort.InferenceSession.create(b, { graphOptimizationLevel: 'all' })));
  const feed = (s: ort.InferenceSession, b: number) => ({
    [s.inputNames[0]!]: new ort.Tensor('float32', split.test.x.slice(0, b * 784), [b, ...featureShape]),
  });
  const cases = sessions.flatMap((s, i) => [1, 64].map((b) => ({ name: `${i}:${b}`, run: () => s.run(feed(s, b)) })));
  const med = await medianLatencies(cases, { budgetMs: quick ? 2000 : 8000 });
  for (const s of sessions) await s.release();
  // The gate's own verdict on each, so the record shows the full-range model refused for the right reason.
  const gate8 = await evaluateParity({
    floatBytes,
    int8Bytes: q8.bytes,
    inputs: { data: split.test.x.subarray(0, 100 * 784), shape: [100, ...featureShape] },
    latency: false,
  });
  if (gate8.kernelSafety.outside.length === 0) throw new Error(`${name}: the full-range model was not flagged by the kernel-safety check`);
  return {
    model: name,
    floatAccuracy: f.accuracy,
    q7: { accuracy: a7.accuracy, agreement: a7.agreement, batch1Us: med['0:1']!, batch64Us: med['0:64']! },
    q8: { accuracy: a8.accuracy, agreement: a8.agreement, batch1Us: med['1:1']!, batch64Us: med['1:64']! },
    q8Reference: { accuracy: r8.accuracy, agreement: r8.agreement },
  };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  await useTfjsWasm();
  const split = loadMnistSplit();
  log('MNIST MLP (cached) and a small CNN (frozen filters, trained classifier)');
  const mlp = exportTfjsModel(await cachedMnistMlp(split)).bytes;
  const cnn = exportTfjsModel(await trainFrozenMnistCnn(split)).bytes;
  const rows = [
    await compare('MNIST MLP 784-256-128-10', mlp, split, 0, [784], opts.quick ?? false),
    await compare('MNIST CNN conv8-bn-conv12-dense10', cnn, split, FROZEN_CNN_TRAIN_ROWS, [28, 28, 1], opts.quick ?? false),
  ];
  const figures: BenchReport['figures'] = {};
  for (const [i, r] of rows.entries()) {
    const k = i === 0 ? 'mlp' : 'cnn';
    Object.assign(figures, {
      [`${k}FloatAccuracy`]: r.floatAccuracy,
      [`${k}Int8w7Accuracy`]: r.q7.accuracy,
      [`${k}Int8w7Agreement`]: r.q7.agreement,
      [`${k}Int8w8AccuracyThisCpu`]: r.q8.accuracy,
      [`${k}Int8w8AgreementThisCpu`]: r.q8.agreement,
      [`${k}Int8w8AccuracyReference`]: r.q8Reference.accuracy,
      [`${k}Int8w7Batch1Us`]: r.q7.batch1Us,
      [`${k}Int8w8Batch1Us`]: r.q8.batch1Us,
      [`${k}Int8w7Batch64Us`]: r.q7.batch64Us,
      [`${k}Int8w8Batch64Us`]: r.q8.batch64Us,
    });
  }
  const markdown = [
    '## int8 weight range: 7-bit (default, exact on every CPU) vs full 8-bit',
    '',
    `Test split of ${split.test.count} MNIST digits. "This CPU" runs onnxruntime-node's fused int8 kernels; "reference" runs the same`,
    'full-range file with graph optimizations off (DequantizeLinear + float ops), which is what a VNNI CPU computes.',
    '',
    '| Model | float acc. | 7-bit acc. (agreement) | 8-bit acc. this CPU (agreement) | 8-bit acc. reference (agreement) | 7-bit µs b1 / b64 | 8-bit µs b1 / b64 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${pct(r.floatAccuracy)} | ${pct(r.q7.accuracy)} (${pct(r.q7.agreement)}) | ${pct(r.q8.accuracy)} (${pct(r.q8.agreement)}) | ${pct(r.q8Reference.accuracy)} (${pct(r.q8Reference.agreement)}) | ${r.q7.batch1Us} / ${r.q7.batch64Us} | ${r.q8.batch1Us} / ${r.q8.batch64Us} |`,
    ),
    '',
    'Both ranges run the same kernels, so speed is the same within noise; the 7-bit cost is the accuracy gap between the 7-bit and the',
    '8-bit reference columns. Where "8-bit this CPU" falls below "8-bit reference", this CPU saturates full-range weights (x86 without',
    'VNNI): the parity gate refuses such a model on any CPU (`kernelSafety` in the parity report).',
    `Machine: ${machineSummary()}.`,
  ].join('\n');
  return { name: 'int8-range', figures, markdown };
}
