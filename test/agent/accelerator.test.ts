// The agent offered onnxruntime's WebGPU provider (on Mesa lavapipe here, a GPU on devices): each model is
// probed there, compared with the CPU and timed; the provider that serves is reported, and predictions equal
// the CPU reference whichever serves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '@flotilla/edge-agent';
import { makeBundle } from './harness/test-bundles.ts';
import { TRUSTED_HEX } from './harness/test-keys.ts';
import { classifierModel, referenceOutputs, sampleRow } from './harness/test-models.ts';
import { lavapipeIcd, lavapipeMissing } from '../support/tools.ts';

const noLavapipe = lavapipeMissing();
// Read by the Vulkan loader when onnxruntime's Dawn first looks for an adapter.
if (!noLavapipe) process.env.VK_DRIVER_FILES = lavapipeIcd();

const ROW = sampleRow(16, 3);
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close();
  agent = undefined;
});

const gpuAgent = () =>
  createAgent({
    deviceId: 'gpu-1',
    offline: true,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-gpu-')),
    trustedKeys: [TRUSTED_HEX],
    gpu: 'webgpu',
  });

describe.skipIf(noLavapipe)('agent on WebGPU (lavapipe)', () => {
  it('probes a bundle that allows webgpu on it: both providers ran the self-tests, the choice and its timings are reported, outputs equal the CPU', async () => {
    const bundle = await makeBundle({
      version: '1.0.0',
      sequence: 1,
      extra: { runtime: { minAgentVersion: '0.1.0', opset: 13, executionProviders: ['cpu', 'webgpu'] } },
    });
    agent = await gpuAgent();
    await agent.install(bundle.bytes);
    const choice = agent.executionProvider!;
    // Both were measured: whichever won, the reason names the comparison, never a load failure or a mismatch.
    expect(choice.cpuMs).toBeGreaterThan(0);
    expect(choice.acceleratedMs).toBeGreaterThan(0);
    if (choice.provider === 'webgpu') expect(choice.reason).toMatch(/^webgpu matches cpu and is faster/);
    else expect(choice.reason).toMatch(/^webgpu is not faster/);
    const p = await agent.predict(ROW);
    const truth = await referenceOutputs(classifierModel({ inputs: 16 }), ROW);
    Array.from(p.outputs.y!).forEach((v, i) => expect(Math.abs(v - truth[i]!)).toBeLessThanOrEqual(1e-4));
  });

  it('serves a bundle that does not list webgpu on the CPU without loading it on the GPU, and says why', async () => {
    const bundle = await makeBundle({ version: '1.0.0', sequence: 1 });
    agent = await gpuAgent();
    await agent.install(bundle.bytes);
    expect(agent.executionProvider).toEqual({ provider: 'cpu', reason: 'the bundle does not allow webgpu (it lists cpu, wasm)' });
  });
});

it('an agent without an accelerator reports the CPU as its provider', async () => {
  const bundle = await makeBundle({ version: '1.0.0', sequence: 1 });
  agent = await createAgent({
    deviceId: 'cpu-1',
    offline: true,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-cpu-')),
    trustedKeys: [TRUSTED_HEX],
  });
  expect(agent.executionProvider).toBeNull();
  await agent.install(bundle.bytes);
  expect(agent.executionProvider).toEqual({ provider: 'cpu', reason: 'no accelerator configured' });
});
