// Choosing the execution provider a model serves on: the device's GPU only when the bundle allows it,
// the self-tests pass on it within the bundle's tolerance, and it is measurably faster than the CPU.
import type { BundleManifest } from '@flotilla/firmware-bundler';
import { probeModel } from './self-test.ts';
import type { InferenceRuntime, ModelSession } from '../runtime/inference-runtime.ts';
import { WrappedRuntime } from '../runtime/wrapped-runtime.ts';

/** An accelerated runtime offered to the agent (e.g. `new OnnxNodeRuntime({ executionProvider: 'webgpu' })`). */
export interface AcceleratorOptions {
  runtime: InferenceRuntime;
  /** The provider name a bundle must list in `runtime.executionProviders` to allow it. Default the runtime's first. */
  provider?: string;
  /** Timed rounds of the self-tests on each provider; the fastest round of each is compared. Default 3. */
  rounds?: number;
  /**
   * Time for the whole comparison in ms, beside the update's own probe budget (a GPU's first run compiles
   * shaders: seconds on a software adapter). Running out keeps the CPU. Default 30000.
   */
  budgetMs?: number;
}

/** Which provider serves a model, and why (reported in status [WIRE-2.3] and `agent.status()`). */
export interface ProviderChoice {
  provider: string;
  reason: string;
  /** Fastest self-test round on the CPU runtime and on the accelerator, in ms, when both ran. */
  cpuMs?: number;
  acceleratedMs?: number;
  /** Time the comparison took (loads, first runs, rounds), which the update's probe budget does not pay for. */
  probeMs?: number;
}

/** The provider a runtime serves on when nothing is probed: its first (`cpu`, `wasm`, `webgpu`). */
export const defaultProvider = (runtime: InferenceRuntime): string => runtime.executionProviders[0] ?? 'cpu';

/**
 * An InferenceRuntime for one load: it loads the model on the CPU runtime and, where allowed, on the
 * accelerator, runs the manifest's self-tests on both and keeps one session, releasing the other.
 * The expected self-test outputs were computed by the CPU provider when the bundle was built, so
 * "passes the self-tests" is "matches the CPU within the bundle's tolerance". Every reason to stay
 * on the CPU is recorded; none of them fails the load (the CPU session still has its own probe ahead).
 */
export class ProbedRuntime extends WrappedRuntime {
  /** Set by {@link load}. */
  choice: ProviderChoice | null = null;
  /** Whether this load went as far as the accelerator (only then is there a comparison time to report). */
  private triedAccelerator = false;

  /** `cpu` is the runtime wrapped: it answers for name, providers and opset, and serves unless the accelerator earns it. */
  constructor(
    cpu: InferenceRuntime,
    private readonly accel: AcceleratorOptions,
    private readonly manifest: BundleManifest,
  ) {
    super(cpu);
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    const t0 = performance.now();
    this.triedAccelerator = false;
    const session = await this.choose(modelBytes);
    if (this.choice && this.triedAccelerator) this.choice.probeMs = round2(performance.now() - t0);
    return session;
  }

  private async choose(modelBytes: Uint8Array): Promise<ModelSession> {
    const cpuName = defaultProvider(this.inner);
    const stay = (reason: string, timings: Partial<ProviderChoice> = {}) => {
      this.choice = { provider: cpuName, reason, ...timings };
    };
    const cpuSession = await this.inner.load(modelBytes);
    const name = this.accel.provider ?? defaultProvider(this.accel.runtime);
    const allowed = this.manifest.runtime?.executionProviders ?? [];
    if (!allowed.includes(name)) {
      stay(`the bundle does not allow ${name} (it lists ${allowed.join(', ') || 'no providers'})`);
      return cpuSession;
    }
    if (!this.manifest.selfTests?.length) {
      stay(`the bundle has no self-test vectors to check ${name} against the CPU`);
      return cpuSession;
    }
    let accelSession: ModelSession;
    this.triedAccelerator = true;
    try {
      accelSession = await this.accel.runtime.load(modelBytes);
    } catch (err) {
      stay(`${name} could not load the model: ${oneLine(err)}`);
      return cpuSession;
    }
    try {
      const budgetMs = this.accel.budgetMs ?? 30_000;
      const deadline = performance.now() + budgetMs;
      const left = () => Math.max(1, deadline - performance.now());
      // The first run on each side pays for kernel compilation and uploads; it checks outputs, not speed.
      await probeModel(cpuSession, this.manifest, left());
      try {
        await probeModel(accelSession, this.manifest, left());
      } catch (err) {
        const code = (err as { code?: string })?.code;
        stay(
          code === 'AGENT_SELF_TEST_TIMEOUT'
            ? `${name} did not finish its first self-test run within the accelerator's ${budgetMs} ms budget`
            : `${name} does not match the CPU within the bundle's tolerance: ${oneLine(err)}`,
        );
        await accelSession.release().catch(() => undefined);
        return cpuSession;
      }
      let cpuMs = Infinity;
      let acceleratedMs = Infinity;
      for (let round = 0; round < (this.accel.rounds ?? 3); round++) {
        cpuMs = Math.min(cpuMs, (await probeModel(cpuSession, this.manifest, left())).ms);
        acceleratedMs = Math.min(acceleratedMs, (await probeModel(accelSession, this.manifest, left())).ms);
      }
      const timings = { cpuMs: round2(cpuMs), acceleratedMs: round2(acceleratedMs) };
      if (!(acceleratedMs < cpuMs)) {
        stay(`${name} is not faster (${timings.acceleratedMs} ms against ${timings.cpuMs} ms on ${cpuName})`, timings);
        await accelSession.release().catch(() => undefined);
        return cpuSession;
      }
      this.choice = {
        provider: name,
        reason: `${name} matches ${cpuName} and is faster (${timings.acceleratedMs} ms against ${timings.cpuMs} ms)`,
        ...timings,
      };
      await cpuSession.release().catch(() => undefined);
      return accelSession;
    } catch (err) {
      // The CPU itself failed its self-tests or the budget ran out: the probing step will say so.
      stay(`not compared: ${oneLine(err)}`);
      await accelSession.release().catch(() => undefined);
      return cpuSession;
    }
  }
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;
const oneLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 200);
