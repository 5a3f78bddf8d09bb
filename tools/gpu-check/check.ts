// The GPU device check, run by run.sh on the GPU machine (bundled by prepare.sh into check.mjs).
// Trains the default CNN and the wide CNN on webgpu and on wasm with the same seeds and prints one
// JSON verdict on stdout; progress goes to stderr. GPU_CHECK_DRY_RUN=1 shrinks every run and accepts
// a software adapter, to rehearse the whole path on lavapipe (its verdict then fails on the vendor).
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendInfo } from '../../server/src/training/backend.ts';
import { predictProbabilities } from '../../server/src/training/batches.ts';
import { buildModel } from '../../server/src/training/build-model.ts';
import { splitDataset, takeRows } from '../../server/src/datasets/splits.ts';
import type { Dataset } from '../../server/src/datasets/dataset-types.ts';
import { metricsFromProbabilities } from '../../server/src/training/metrics.ts';
import { loadMnist } from '../../server/src/datasets/mnist-data.ts';
import { DEFAULT_CNN_SPEC, WIDE_CNN_SPEC, type LayerListSpec } from '../../server/src/training/model-spec.ts';
import { trainModel, type EpochMetrics } from '../../server/src/training/train-loop.ts';
import { watchGpu, type GpuUse } from './gpu-monitor.ts';
import { judge, type RunFigures } from './verdict.ts';

const dryRun = process.env.GPU_CHECK_DRY_RUN === '1';
const started = performance.now();
// Leaves run.sh's unpacking and the 7-minute limit some room: later stages are skipped, not cut off.
const deadlineS = Number(process.env.GPU_CHECK_DEADLINE_S ?? 360);
const log = (line: string) => process.stderr.write(`[gpu-check ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}\n`);

// Full sizes: the CNN sees the whole 8,000-digit training split twice (enough for >= 0.90);
// the wide CNN 2,048 digits twice, its second epoch giving the speed figure (the first compiles shaders).
const SIZES = dryRun ? { cnn: 64, wide: 32, test: 64 } : { cnn: 8000, wide: 2048, test: 1000 };
const MODELS: { key: 'cnn' | 'wideCnn'; spec: LayerListSpec; samples: number }[] = [
  { key: 'cnn', spec: DEFAULT_CNN_SPEC, samples: SIZES.cnn },
  { key: 'wideCnn', spec: WIDE_CNN_SPEC, samples: SIZES.wide },
];
const HYPER = { epochs: 2, batchSize: 64, seed: 7 };

async function trainOn(
  backend: 'webgpu' | 'wasm',
  spec: LayerListSpec,
  train: Dataset,
  test: Dataset,
): Promise<{ info: BackendInfo; epochs: EpochMetrics[]; testAccuracy: number }> {
  const info = await selectBackend({ prefer: backend, strict: true, allowSoftwareGpu: dryRun });
  const model = await buildModel(spec, { inputShape: train.featureShape, numClasses: train.numClasses, seed: HYPER.seed });
  try {
    const { history } = await trainModel({ model, train, validation: takeRows(train, []), hyper: HYPER });
    const testAccuracy = metricsFromProbabilities(await predictProbabilities(model, test), test.numClasses, test.y).accuracy;
    return { info, epochs: history, testAccuracy };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const mnist = await loadMnist();
  const { train, test: fullTest } = splitDataset(mnist, { seed: 42, stratify: mnist.y });
  // Split rows come back in index order and MNIST is ordered by class: evenly spaced rows keep every class.
  const spread = (n: number, of: number) => Array.from({ length: Math.min(n, of) }, (_, i) => Math.floor((i * of) / Math.min(n, of)));
  const test = takeRows(fullTest, spread(SIZES.test, fullTest.n));
  const runs: RunFigures[] = [];
  let adapter: BackendInfo['adapter'] | null = null;
  let webgpuError: string | null = null;
  let gpuUse: GpuUse | null = null;
  for (const m of MODELS) {
    const part = takeRows(train, spread(m.samples, train.n));
    for (const backend of ['webgpu', 'wasm'] as const) {
      if ((performance.now() - started) / 1000 > deadlineS) {
        runs.push({ model: m.key, backend, error: `skipped: past the ${deadlineS} s deadline` });
        continue;
      }
      if (backend === 'webgpu' && webgpuError) {
        runs.push({ model: m.key, backend, error: webgpuError });
        continue;
      }
      log(`${m.key} on ${backend}: ${part.n} samples x ${HYPER.epochs} epochs`);
      const watch = backend === 'webgpu' ? await watchGpu() : null;
      try {
        const r = await trainOn(backend, m.spec, part, test);
        if (backend === 'webgpu') adapter = r.info.adapter ?? null;
        const last = r.epochs.at(-1)!;
        runs.push({
          model: m.key,
          backend,
          epoch1Loss: r.epochs[0]!.loss,
          testAccuracy: r.testAccuracy,
          samplesPerSec: last.samplesPerSec,
          seconds: r.epochs.reduce((a, e) => a + e.durationMs, 0) / 1000,
        });
        log(
          `${m.key} on ${backend}: loss ${r.epochs[0]!.loss.toFixed(4)}, test accuracy ${r.testAccuracy.toFixed(4)}, ${last.samplesPerSec.toFixed(1)} samples/s`,
        );
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (backend === 'webgpu') webgpuError = msg;
        runs.push({ model: m.key, backend, error: msg });
        log(`${m.key} on ${backend} failed: ${msg}`);
      } finally {
        if (watch) {
          const seen = await watch.stop();
          gpuUse = gpuUse
            ? {
                ...seen,
                idleMemoryMiB: gpuUse.idleMemoryMiB,
                peakMemoryMiB: Math.max(gpuUse.peakMemoryMiB ?? 0, seen.peakMemoryMiB ?? 0),
                processListed: gpuUse.processListed || seen.processListed,
                samples: gpuUse.samples + seen.samples,
              }
            : seen;
        }
      }
    }
  }
  const verdict = judge({
    dryRun,
    adapter,
    runs,
    gpuUse,
    seconds: (performance.now() - started) / 1000,
    tfjs: tf.version_core,
    diag: process.env.GPU_CHECK_DIAG ?? null,
  });
  process.stdout.write(`${JSON.stringify(verdict)}\n`);
  // Dawn's instance keeps the event loop alive after training; the verdict is out, so leave.
  process.exit(verdict.pass ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ pass: false, error: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
