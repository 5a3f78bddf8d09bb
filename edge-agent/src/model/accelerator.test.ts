// The provider probe's decisions, on runtime doubles whose outputs and speed the test sets (the seam's unit
// test; test/agent/accelerator.test.ts runs the real WebGPU provider on lavapipe).
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '@flotilla/firmware-bundler';
import type { InferenceRuntime, ModelSession, TensorValue } from '../runtime/inference-runtime.ts';
import { ProbedRuntime } from './accelerator.ts';

interface Behaviour {
  /** Added to every output value (0: exact). */
  offset?: number;
  /** Busy time per run in ms. */
  spinMs?: number;
  failLoad?: boolean;
}

/** A "model" y = 2x whose sessions count their releases. */
class FakeRuntime implements InferenceRuntime {
  readonly name = 'fake';
  readonly maxOpset = 24;
  released = 0;
  loads = 0;
  constructor(
    readonly executionProviders: readonly string[],
    private readonly b: Behaviour = {},
  ) {}
  async load(): Promise<ModelSession> {
    this.loads++;
    if (this.b.failLoad) throw new Error('no adapter\nsecond line');
    return {
      inputs: [{ name: 'x', shape: [null, 2] }],
      outputNames: ['y'],
      run: async (feeds: Record<string, TensorValue>) => {
        const end = performance.now() + (this.b.spinMs ?? 0);
        while (performance.now() < end);
        const x = feeds.x!;
        return { y: { data: x.data.map((v) => 2 * v + (this.b.offset ?? 0)), dims: x.dims } };
      },
      release: async () => {
        this.released++;
      },
    };
  }
}

const manifest = (providers: string[], selfTests = true) =>
  ({
    model: { name: 'm', version: '1.0.0', sequence: 1, file: 'model.onnx' },
    signature: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [null, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
    },
    runtime: { executionProviders: providers },
    ...(selfTests && { selfTests: [{ name: 't', inputs: { x: [1, 2] }, expected: { y: [2, 4] }, tolerance: { abs: 1e-4 } }] }),
  }) as unknown as BundleManifest;

async function choose(m: BundleManifest, cpu: FakeRuntime, gpu: FakeRuntime) {
  const probed = new ProbedRuntime(cpu, { runtime: gpu, rounds: 2 }, m);
  const session = await probed.load(new Uint8Array());
  const out = await session.run({ x: { data: Float32Array.from([3, 4]), dims: [1, 2] } });
  return { choice: probed.choice!, y: Array.from(out.y!.data) };
}

describe('ProbedRuntime: the GPU serves only when the bundle allows it, it matches the CPU and it is faster', () => {
  it('serves on the accelerator when it matches and is faster, releasing the CPU session', async () => {
    const cpu = new FakeRuntime(['cpu'], { spinMs: 4 });
    const gpu = new FakeRuntime(['webgpu', 'cpu']);
    const { choice, y } = await choose(manifest(['cpu', 'webgpu']), cpu, gpu);
    expect(choice.provider).toBe('webgpu');
    expect(choice.reason).toMatch(/matches cpu and is faster/);
    expect(choice.acceleratedMs!).toBeLessThan(choice.cpuMs!);
    // The comparison's own time is reported, so the update's probe budget does not pay for it.
    expect(choice.probeMs!).toBeGreaterThanOrEqual(choice.cpuMs! * 3);
    expect(y).toEqual([6, 8]);
    expect([cpu.released, gpu.released]).toEqual([1, 0]);
  });

  it('stays on the CPU when the accelerator is slower, and says by how much', async () => {
    const cpu = new FakeRuntime(['cpu']);
    const gpu = new FakeRuntime(['webgpu'], { spinMs: 4 });
    const { choice } = await choose(manifest(['cpu', 'webgpu']), cpu, gpu);
    expect(choice).toMatchObject({
      provider: 'cpu',
      reason: expect.stringMatching(/webgpu is not faster \(\d+(\.\d+)? ms against \d+(\.\d+)? ms on cpu\)/),
    });
    expect([cpu.released, gpu.released]).toEqual([0, 1]);
  });

  it('stays on the CPU when the accelerator computes something else, however fast', async () => {
    const cpu = new FakeRuntime(['cpu'], { spinMs: 4 });
    const gpu = new FakeRuntime(['webgpu'], { offset: 0.01 });
    const { choice, y } = await choose(manifest(['cpu', 'webgpu']), cpu, gpu);
    expect(choice.provider).toBe('cpu');
    expect(choice.reason).toMatch(/webgpu does not match the CPU within the bundle's tolerance: self-test t: y\[0\]/);
    expect(y).toEqual([6, 8]);
    expect(gpu.released).toBe(1);
  });

  it('never loads on the accelerator when the bundle does not list its provider or has no self-tests to judge it by', async () => {
    const gpu = new FakeRuntime(['webgpu']);
    const notAllowed = await choose(manifest(['cpu']), new FakeRuntime(['cpu']), gpu);
    expect(notAllowed.choice).toEqual({ provider: 'cpu', reason: 'the bundle does not allow webgpu (it lists cpu)' });
    const untested = await choose(manifest(['cpu', 'webgpu'], false), new FakeRuntime(['cpu']), gpu);
    expect(untested.choice.reason).toBe('the bundle has no self-test vectors to check webgpu against the CPU');
    expect(gpu.loads).toBe(0);
  });

  it('stays on the CPU when the accelerator\'s first run does not finish within its budget, saying so rather than "does not match"', async () => {
    const cpu = new FakeRuntime(['cpu']);
    const probed = new ProbedRuntime(
      cpu,
      { runtime: new FakeRuntime(['webgpu'], { spinMs: 60 }), budgetMs: 30 },
      manifest(['cpu', 'webgpu']),
    );
    await probed.load(new Uint8Array());
    expect(probed.choice).toMatchObject({
      provider: 'cpu',
      reason: "webgpu did not finish its first self-test run within the accelerator's 30 ms budget",
    });
  });

  it('stays on the CPU with the first line of the reason when the accelerator cannot load the model', async () => {
    const { choice, y } = await choose(
      manifest(['cpu', 'webgpu']),
      new FakeRuntime(['cpu']),
      new FakeRuntime(['webgpu'], { failLoad: true }),
    );
    expect(choice).toMatchObject({ provider: 'cpu', reason: 'webgpu could not load the model: no adapter' });
    expect(choice.probeMs).toBeGreaterThanOrEqual(0);
    expect(y).toEqual([6, 8]);
  });
});
