// `npm run bench -- inference`: median latency of the MNIST MLP on TensorFlow.js wasm, onnxruntime-node (float, int8)
// and onnxruntime-web (float, int8, the int8-download adapter), at batch 1 and 64, measured in one interleaved run.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import { foldInt8Weights } from '@flotilla/firmware-bundler/onnx';
import { exportTfjsModel } from '../convert/tfjs-export/export-tfjs-model.ts';
import { evaluateParity } from '../convert/evaluate-parity.ts';
import { medianLatencies, type LatencyCase } from '../convert/latency.ts';
import { configureOrtWeb, openWebSession } from '../convert/ort-web-node.ts';
import { quantizeDynamic } from '../convert/quantize/quantize-dynamic.ts';
import { quantizeStatic } from '../convert/quantize/quantize-static.ts';
import { cachedMnistMlp, loadMnistSplit } from '../convert/testing/mnist-mlp.ts';
import { useTfjsWasm } from '../convert/testing/tfjs-wasm-node.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { machineSummary } from './machine.ts';

const BATCHES: readonly number[] = [1, 64];

interface Runtime {
  key: string;
  label: string;
  run: (batch: number) => () => Promise<unknown>;
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  await useTfjsWasm();
  log('loading MNIST and the MLP (trained once, then cached in the temp folder)');
  const split = loadMnistSplit();
  const model = await cachedMnistMlp(split);
  const floatBytes = exportTfjsModel(model).bytes;
  const calibration = { data: split.train.x.subarray(0, 512 * 784), shape: [512, 784] };
  const int8 = await quantizeStatic(floatBytes, calibration);
  const dynamic = await quantizeDynamic(floatBytes);
  const adapted = foldInt8Weights(int8.bytes);
  const parity = await evaluateParity({
    floatBytes,
    int8Bytes: int8.bytes,
    inputs: { data: split.test.x, shape: [split.test.count, 784] },
    labels: split.test.y,
    latency: false,
  });

  const inputs = new Map(BATCHES.map((b) => [b, split.test.x.slice(0, b * 784)]));
  const nodeSession = (bytes: Uint8Array) => ortNode.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const ortWeb = configureOrtWeb();
  const nodeFeeds = new Map(BATCHES.map((b) => [b, { input: new ortNode.Tensor('float32', inputs.get(b)!, [b, 784]) }]));
  const webFeeds = new Map(BATCHES.map((b) => [b, { input: new ortWeb.Tensor('float32', inputs.get(b)!, [b, 784]) }]));
  const tfInputs = new Map(BATCHES.map((b) => [b, tf.tensor2d(inputs.get(b)!, [b, 784])]));
  const [nf, nq, nd, wf, wq, wa] = await Promise.all([
    nodeSession(floatBytes),
    nodeSession(int8.bytes),
    nodeSession(dynamic.bytes),
    openWebSession(floatBytes),
    openWebSession(int8.bytes),
    openWebSession(adapted),
  ]);
  const runtimes: Runtime[] = [
    {
      key: 'tfjsWasm',
      label: 'TensorFlow.js wasm `predict`',
      run: (b) => async () => {
        const y = model.predict(tfInputs.get(b)!) as tf.Tensor;
        await y.data();
        y.dispose();
      },
    },
    { key: 'nodeFloat', label: 'onnxruntime-node float', run: (b) => () => nf!.run(nodeFeeds.get(b)!) },
    { key: 'nodeInt8', label: 'onnxruntime-node int8 (static QDQ)', run: (b) => () => nq!.run(nodeFeeds.get(b)!) },
    { key: 'nodeInt8Dynamic', label: 'onnxruntime-node int8 (dynamic)', run: (b) => () => nd!.run(nodeFeeds.get(b)!) },
    { key: 'webFloat', label: 'onnxruntime-web float', run: (b) => () => wf!.run(webFeeds.get(b)!) },
    { key: 'webInt8', label: 'onnxruntime-web int8 (no adapter)', run: (b) => () => wq!.run(webFeeds.get(b)!) },
    { key: 'webAdapter', label: 'onnxruntime-web, int8 download + adapter', run: (b) => () => wa!.run(webFeeds.get(b)!) },
  ];
  const cases: LatencyCase[] = runtimes.flatMap((r) => BATCHES.map((b) => ({ name: `${r.key}Batch${b}Us`, run: r.run(b) })));
  log(`measuring ${cases.length} cases, interleaved`);
  const med = await medianLatencies(cases, { budgetMs: quick ? 3000 : 15000, warmup: quick ? 20 : 30 });
  for (const s of [nf, nq, nd, wf, wq, wa]) await s!.release();
  for (const t of tfInputs.values()) t.dispose();

  const ratio = (a: string, b: string) => Math.round((med[a]! / med[b]!) * 100) / 100;
  const figures: BenchReport['figures'] = {
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.cpus().length,
    ortNodeThreads: 'default (one per core)',
    ortWebThreads: 1,
    ...med,
    nodeInt8SpeedupBatch1: ratio('nodeFloatBatch1Us', 'nodeInt8Batch1Us'),
    nodeInt8SpeedupBatch64: ratio('nodeFloatBatch64Us', 'nodeInt8Batch64Us'),
    nodeFloatVsTfjsBatch1: ratio('tfjsWasmBatch1Us', 'nodeFloatBatch1Us'),
    nodeFloatVsTfjsBatch64: ratio('tfjsWasmBatch64Us', 'nodeFloatBatch64Us'),
    webAdapterVsInt8Batch1: ratio('webInt8Batch1Us', 'webAdapterBatch1Us'),
    floatBytes: floatBytes.length,
    int8Bytes: int8.bytes.length,
    int8SizeRatio: Math.round(parity.sizeRatio * 1000) / 1000,
    floatAccuracy: parity.float.accuracy!,
    int8Accuracy: parity.int8.accuracy!,
    top1Agreement: parity.top1Agreement,
  };
  const goal = (ok: boolean) => (ok ? 'met' : 'missed');
  const rows = runtimes.map((r) => `| ${r.label} | ${med[`${r.key}Batch1Us`]} | ${med[`${r.key}Batch64Us`]} |`);
  const markdown = [
    '## Inference latency (MNIST MLP 784-256-128-10)',
    '',
    'Median µs per call, all runtimes measured in interleaved rounds in one process.',
    '',
    '| Runtime | batch 1 (µs) | batch 64 (µs) |',
    '|---|---:|---:|',
    ...rows,
    '',
    `int8 is ${figures.nodeInt8SpeedupBatch64}× faster than float on onnxruntime-node at batch 64 (goal 2×: ${goal(Number(figures.nodeInt8SpeedupBatch64) >= 2)}) and ${figures.nodeInt8SpeedupBatch1}× at batch 1 (goal 1.3×: ${goal(Number(figures.nodeInt8SpeedupBatch1) >= 1.3)}); onnxruntime-node float is ${figures.nodeFloatVsTfjsBatch64}× faster than TensorFlow.js wasm at batch 64 and ${figures.nodeFloatVsTfjsBatch1}× at batch 1 (goal 4×).`,
    `int8 file ${int8.bytes.length} B = ${(parity.sizeRatio * 100).toFixed(1)}% of float (${floatBytes.length} B); test accuracy ${(parity.float.accuracy! * 100).toFixed(2)}% float, ${(parity.int8.accuracy! * 100).toFixed(2)}% int8, top-1 agreement ${(parity.top1Agreement * 100).toFixed(2)}%.`,
    `Machine: ${machineSummary()}.`,
  ].join('\n');
  return { name: 'inference', figures, markdown };
}
