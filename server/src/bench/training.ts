// `npm run bench -- training`: training throughput of the wasm and cpu backends on the same models.
import os from 'node:os';
import { selectBackend, type BackendInfo } from '../training/backend.ts';
import { buildModel } from '../training/build-model.ts';
import { splitDataset, takeRows } from '../datasets/splits.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { loadMnist } from '../datasets/mnist-data.ts';
import { DEFAULT_CNN_SPEC, DEFAULT_DENSE_SPEC, type LayerListSpec } from '../training/model-spec.ts';
import { trainModel } from '../training/train-loop.ts';
import { useWasmKernelReplacements } from '../training/wasm-kernels.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { machineSummary } from './machine.ts';

const BATCH = 64;

type Variant = { key: string; label: string; backend: 'wasm' | 'cpu'; replacements: boolean };
const VARIANTS: Variant[] = [
  { key: 'Wasm', label: 'wasm + Flotilla kernels', backend: 'wasm', replacements: true },
  { key: 'WasmStock', label: 'wasm, stock kernels (+ missing ones only)', backend: 'wasm', replacements: false },
  { key: 'Cpu', label: 'cpu (plain JS)', backend: 'cpu', replacements: true },
];

/** Samples per measured epoch, per model and backend; the cpu CNN gets only a few batches. */
function sampleCount(model: 'dense' | 'cnn', backend: 'wasm' | 'cpu', quick: boolean): number {
  const batches = { dense: { wasm: 60, cpu: 12 }, cnn: { wasm: 16, cpu: 2 } }[model][backend];
  return Math.max(1, quick ? Math.ceil(batches / 4) : batches) * BATCH;
}

/** Trains one warm-up batch, then one epoch over `n` samples through trainModel; returns samples/s. */
async function measure(spec: LayerListSpec, data: Dataset, n: number): Promise<number> {
  const ctx = { inputShape: data.featureShape, numClasses: data.numClasses, seed: 1 };
  const model = await buildModel(spec, ctx);
  const empty = takeRows(data, []);
  try {
    await trainModel({ model, train: takeRows(data, Array.from({ length: BATCH }, (_, i) => i)), validation: empty, hyper: { epochs: 1, batchSize: BATCH } });
    const { history } = await trainModel({ model, train: takeRows(data, Array.from({ length: n }, (_, i) => i % data.n)), validation: empty, hyper: { epochs: 1, batchSize: BATCH } });
    return history[0]!.samplesPerSec;
  } finally {
    model.dispose();
  }
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  const mnist = await loadMnist();
  const { train } = splitDataset(mnist, { seed: 1, stratify: mnist.y });
  const figures: BenchReport['figures'] = { batchSize: BATCH, cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown', cores: os.cpus().length };
  let wasmInfo: BackendInfo | undefined;
  const models = [['dense', DEFAULT_DENSE_SPEC], ['cnn', DEFAULT_CNN_SPEC]] as const;
  for (const variant of VARIANTS) {
    const info = await selectBackend({ prefer: variant.backend, strict: true });
    if (variant.backend === 'wasm') {
      wasmInfo = info;
      useWasmKernelReplacements(variant.replacements);
    }
    for (const [name, spec] of models) {
      const n = sampleCount(name, variant.backend, quick);
      log(`training: ${name} on ${variant.label}, ${n} samples`);
      const rate = await measure(spec, train, n);
      figures[`${name}${variant.key}SamplesPerSec`] = Math.round(rate * 10) / 10;
      log(`training: ${name} on ${variant.label}: ${rate.toFixed(1)} samples/s`);
    }
  }
  useWasmKernelReplacements(true);
  const ratio = (a: string, b: string) => Math.round(((figures[a] as number) / (figures[b] as number)) * 10) / 10;
  for (const name of ['dense', 'cnn']) {
    figures[`${name}WasmOverCpu`] = ratio(`${name}WasmSamplesPerSec`, `${name}CpuSamplesPerSec`);
    figures[`${name}WasmOverWasmStock`] = ratio(`${name}WasmSamplesPerSec`, `${name}WasmStockSamplesPerSec`);
  }
  figures['wasmSimd'] = wasmInfo?.simd ?? false;
  figures['wasmThreads'] = wasmInfo?.threads ?? 1;

  const row = (name: string, label: string) =>
    `| ${label} | ${VARIANTS.map((v) => figures[`${name}${v.key}SamplesPerSec`]).join(' | ')} | ${figures[`${name}WasmOverCpu`]}x | ${figures[`${name}WasmOverWasmStock`]}x |`;
  const markdown = [
    '## Training throughput (samples/s, higher is better)',
    '',
    `Machine: ${machineSummary()}. Batch ${BATCH}, Adam, MNIST digits, one epoch through \`trainModel\` after a warm-up batch.`,
    `wasm: SIMD ${figures['wasmSimd']}, ${figures['wasmThreads']} thread (tfjs-backend-wasm runs single-threaded under Node).`,
    '',
    `| model | ${VARIANTS.map((v) => v.label).join(' | ')} | wasm / cpu | Flotilla / stock kernels |`,
    '|---|---|---|---|---|---|',
    row('dense', 'dense 784-512-256-10 (default)'),
    row('cnn', 'CNN conv16-pool-conv32-pool-128 (default)'),
    '',
    'The stock wasm backend cannot train the CNN at all without Flotilla\'s Conv2DBackpropFilter; the "stock"',
    'column keeps that kernel and reverts BatchMatMul, Conv2DBackpropInput and MaxPoolGrad to tfjs-backend-wasm\'s own.',
    `The cpu CNN figure comes from ${sampleCount('cnn', 'cpu', quick) / BATCH} batches only${quick ? ' (quick run: all sizes quartered)' : ''}.`,
  ].join('\n');
  return { name: 'training', figures, markdown };
}
