// The webgpu backend on Mesa lavapipe 25 (a CPU Vulkan driver): refused unless allowed, and when
// allowed it trains to the same loss and accuracy as wasm on the same seed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lavapipeIcd, lavapipeMissing } from '@flotilla/test/support/tools';
import { selectBackend } from './backend.ts';
import { buildModel } from './build-model.ts';
import { splitDataset, takeRows } from '../datasets/splits.ts';
import { loadMnist } from '../datasets/mnist-data.ts';
import { DEFAULT_CNN_SPEC } from './model-spec.ts';
import { trainModel } from './train-loop.ts';

const missing = lavapipeMissing();
// Read by the Vulkan loader when Dawn creates its instance, i.e. at the first selectBackend below.
if (!missing) process.env.VK_DRIVER_FILES = lavapipeIcd();

async function trainFewBatches(backend: 'webgpu' | 'wasm') {
  const info = await selectBackend({ prefer: backend, strict: true, allowSoftwareGpu: true });
  const mnist = await loadMnist();
  const { train, validation } = splitDataset(mnist, { seed: 1, stratify: mnist.y });
  const part = takeRows(
    train,
    Array.from({ length: 128 }, (_, i) => i * 50),
  );
  const val = takeRows(
    validation,
    Array.from({ length: 64 }, (_, i) => i * 15),
  );
  const model = await buildModel(DEFAULT_CNN_SPEC, { inputShape: part.featureShape, numClasses: 10, seed: 11 });
  try {
    const { history } = await trainModel({ model, train: part, validation: val, hyper: { epochs: 1, batchSize: 32, seed: 5 } });
    return { info, epoch: history[0]! };
  } finally {
    model.dispose();
  }
}

describe.skipIf(missing)('webgpu backend on lavapipe', () => {
  it('refuses the software adapter by default, saying why, and strict makes that an error', async () => {
    const info = await selectBackend({ prefer: 'webgpu' });
    expect(info.name).toBe('wasm');
    expect(info.skipped[0]).toMatchObject({
      name: 'webgpu',
      reason: expect.stringMatching(/^only the software adapter llvmpipe.*Mesa 25/),
    });
    await expect(selectBackend({ prefer: 'webgpu', strict: true })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/webgpu is unavailable: only the software adapter/),
    });
  });

  it('trains the default CNN to the same loss and accuracy as wasm on the same seed', async () => {
    const gpu = await trainFewBatches('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(gpu.info.adapter).toMatchObject({
      vendor: 'mesa',
      architecture: 'software',
      software: true,
      driver: expect.stringMatching(/Mesa 25\./),
    });
    const wasm = await trainFewBatches('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // Four batches of a fresh CNN: the loss has moved off ln(10) but the two backends must agree.
    expect(gpu.epoch.loss).not.toBeCloseTo(Math.log(10), 2);
    expect(gpu.epoch.loss).toBeCloseTo(wasm.epoch.loss, 5);
    expect(gpu.epoch.accuracy).toBeCloseTo(wasm.epoch.accuracy, 5);
    expect(gpu.epoch.valLoss).toBeCloseTo(wasm.epoch.valLoss, 4);
    expect(gpu.epoch.valAccuracy).toBeCloseTo(wasm.epoch.valAccuracy, 5);
  }, 120_000);
});

describe('webgpu backend without a Vulkan driver', () => {
  it('reports that Dawn saw no Vulkan device', () => {
    // A fresh process, because the loader reads VK_DRIVER_FILES once per Dawn instance.
    const probe = fileURLToPath(new URL('./webgpu-backend.ts', import.meta.url));
    const code = `import { probeWebgpu } from ${JSON.stringify(probe)}; console.log(JSON.stringify(await probeWebgpu()));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      env: { ...process.env, VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^Dawn saw no Vulkan device/),
    });
  });
});
