// `npm run bench -- training`: training throughput of the webgpu, wasm and cpu backends on the same models.
import os from 'node:os';
import { selectBackend, type BackendInfo } from '../training/backend.ts';
import { BackendUnavailableError } from '../training/training-errors.ts';
import { buildModel } from '../training/build-model.ts';
import { splitDataset, takeRows } from '../datasets/splits.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { loadMnist } from '../datasets/mnist-data.ts';
import { DEFAULT_CNN_SPEC, DEFAULT_DENSE_SPEC, WIDE_CNN_SPEC, type LayerListSpec } from '../training/model-spec.ts';
import { trainModel } from '../training/train-loop.ts';
import { useWasmKernelReplacements } from '../training/wasm-kernels.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { machineSummary } from './machine.ts';

const BATCH = 64;

type Backend = 'webgpu' | 'wasm' | 'cpu';
type ModelName = 'dense' | 'cnn' | 'wideCnn';
type Variant = { key: string; label: string; backend: Backend; replacements: boolean; models: ModelName[] };
const VARIANTS: Variant[] = [
  { key: 'Webgpu', label: 'webgpu', backend: 'webgpu', replacements: true, models: ['dense', 'cnn', 'wideCnn'] },
  { key: 'Wasm', label: 'wasm + Flotilla kernels', backend: 'wasm', replacements: true, models: ['dense', 'cnn', 'wideCnn'] },
  // The wide CNN would take minutes per batch on these two; it is there to compare webgpu with wasm.
  { key: 'WasmStock', label: 'wasm, stock kernels (+ missing ones only)', backend: 'wasm', replacements: false, models: ['dense', 'cnn'] },
  { key: 'Cpu', label: 'cpu (plain JS)', backend: 'cpu', replacements: true, models: ['dense', 'cnn'] },
];
const MODELS: Record<ModelName, { spec: LayerListSpec; label: string }> = {
  dense: { spec: DEFAULT_DENSE_SPEC, label: 'dense 784-512-256-10 (default)' },
  cnn: { spec: DEFAULT_CNN_SPEC, label: 'CNN conv16-pool-conv32-pool-128 (default)' },
  wideCnn: { spec: WIDE_CNN_SPEC, label: 'wide CNN conv64-pool-conv128-pool-512' },
};

/** Batches per measured epoch; a software GPU (lavapipe) runs as slowly as plain JS, so it gets the cpu counts. */
function batchCount(model: ModelName, speed: 'fast' | 'slow', quick: boolean): number {
  const batches = { dense: { fast: 60, slow: 12 }, cnn: { fast: 16, slow: 2 }, wideCnn: { fast: 8, slow: 1 } }[model][speed];
  return Math.max(1, quick ? Math.ceil(batches / 4) : batches);
}

/** Trains one warm-up batch, then one epoch over `n` samples through trainModel; returns samples/s. */
async function measure(spec: LayerListSpec, data: Dataset, n: number): Promise<number> {
  const ctx = { inputShape: data.featureShape, numClasses: data.numClasses, seed: 1 };
  const model = await buildModel(spec, ctx);
  const empty = takeRows(data, []);
  try {
    await trainModel({
      model,
      train: takeRows(
        data,
        Array.from({ length: BATCH }, (_, i) => i),
      ),
      validation: empty,
      hyper: { epochs: 1, batchSize: BATCH },
    });
    const { history } = await trainModel({
      model,
      train: takeRows(
        data,
        Array.from({ length: n }, (_, i) => i % data.n),
      ),
      validation: empty,
      hyper: { epochs: 1, batchSize: BATCH },
    });
    return history[0]!.samplesPerSec;
  } finally {
    model.dispose();
  }
}

/** The variant's backend, or why it cannot run here (only webgpu may be missing). */
async function activate(variant: Variant): Promise<BackendInfo | string> {
  try {
    // A software adapter is measured too when FLOTILLA_WEBGPU_ALLOW_SOFTWARE=1, and labelled so.
    return await selectBackend({ prefer: variant.backend, strict: true });
  } catch (err) {
    if (variant.backend === 'webgpu' && err instanceof BackendUnavailableError) return err.skipped.at(-1)?.reason ?? err.message;
    throw err;
  }
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick ?? false;
  const mnist = await loadMnist();
  const { train } = splitDataset(mnist, { seed: 1, stratify: mnist.y });
  const figures: BenchReport['figures'] = { batchSize: BATCH, cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown', cores: os.cpus().length };
  // A shared machine's other work lowers every absolute figure; the ratios measured side by side hold up better.
  figures['loadAverageAtStart'] = Math.round(os.loadavg()[0]! * 10) / 10;
  const infos = new Map<Backend, BackendInfo | string>();
  for (const variant of VARIANTS) {
    const info = await activate(variant);
    infos.set(variant.backend, info);
    if (typeof info === 'string') {
      log(`training: webgpu not measured: ${info}`);
      continue;
    }
    if (variant.backend === 'wasm') useWasmKernelReplacements(variant.replacements);
    const slow = variant.backend === 'cpu' || Boolean(info.adapter?.software);
    for (const name of variant.models) {
      const n = batchCount(name, slow ? 'slow' : 'fast', quick) * BATCH;
      log(`training: ${name} on ${variant.label}, ${n} samples`);
      const rate = await measure(MODELS[name].spec, train, n);
      figures[`${name}${variant.key}SamplesPerSec`] = Math.round(rate * 10) / 10;
      log(`training: ${name} on ${variant.label}: ${rate.toFixed(1)} samples/s`);
    }
  }
  useWasmKernelReplacements(true);
  const ratio = (a: string, b: string) =>
    typeof figures[a] === 'number' && typeof figures[b] === 'number' ? Math.round((figures[a] / figures[b]) * 100) / 100 : undefined;
  for (const name of Object.keys(MODELS)) {
    for (const [key, a, b] of [
      ['WebgpuOverWasm', 'Webgpu', 'Wasm'],
      ['WasmOverCpu', 'Wasm', 'Cpu'],
      ['WasmOverWasmStock', 'Wasm', 'WasmStock'],
    ] as const) {
      const r = ratio(`${name}${a}SamplesPerSec`, `${name}${b}SamplesPerSec`);
      if (r !== undefined) figures[`${name}${key}`] = r;
    }
  }
  const wasmInfo = infos.get('wasm') as BackendInfo;
  figures['wasmSimd'] = wasmInfo.simd ?? false;
  figures['wasmThreads'] = wasmInfo.threads ?? 1;
  const gpu = infos.get('webgpu')!;
  figures['webgpuAdapter'] =
    typeof gpu === 'string' ? `unavailable: ${gpu}` : `${gpu.adapter!.vendor} ${gpu.adapter!.device} (${gpu.adapter!.driver})`;
  return { name: 'training', figures, markdown: markdown(figures, quick) };
}

function markdown(figures: BenchReport['figures'], quick: boolean): string {
  const cell = (v: unknown, suffix = '') => (v === undefined ? '—' : `${String(v)}${suffix}`);
  const row = (name: ModelName) =>
    `| ${MODELS[name].label} | ${VARIANTS.map((v) => cell(figures[`${name}${v.key}SamplesPerSec`])).join(' | ')} | ` +
    `${['WebgpuOverWasm', 'WasmOverCpu', 'WasmOverWasmStock'].map((k) => cell(figures[`${name}${k}`], 'x')).join(' | ')} |`;
  return [
    '## Training throughput (samples/s, higher is better)',
    '',
    `Machine: ${machineSummary()}. Batch ${BATCH}, Adam, MNIST digits, one epoch through \`trainModel\` after a warm-up batch.`,
    `wasm: SIMD ${figures['wasmSimd']}, ${figures['wasmThreads']} thread (tfjs-backend-wasm runs single-threaded under Node).`,
    `webgpu adapter: ${figures['webgpuAdapter']}.`,
    `Load average when the run started: ${figures['loadAverageAtStart']} on ${figures['cores']} cores (above the core count, absolute figures are low; compare ratios).`,
    '',
    `| model | ${VARIANTS.map((v) => v.label).join(' | ')} | webgpu / wasm | wasm / cpu | Flotilla / stock kernels |`,
    '|---|---|---|---|---|---|---|---|',
    ...(Object.keys(MODELS) as ModelName[]).map(row),
    '',
    'The stock wasm backend cannot train the CNN at all without Flotilla\'s Conv2DBackpropFilter; the "stock"',
    "column keeps that kernel and reverts BatchMatMul, Conv2DBackpropInput and MaxPoolGrad to tfjs-backend-wasm's own.",
    `The cpu CNN figure comes from ${batchCount('cnn', 'slow', quick)} batches only, as does webgpu's on a software adapter${quick ? ' (quick run: all sizes quartered)' : ''};`,
    'the wide CNN is measured on webgpu and wasm only. A software adapter (lavapipe) shows that webgpu works, not how fast a GPU is:',
    'see docs/gpu.md and tools/gpu-check for the GPU figures.',
  ].join('\n');
}
