// An InferenceRuntime wrapper that injects device faults: slow inference and a broken model stack.
import { createHash } from 'node:crypto';
import type { InferenceRuntime, ModelSession, TensorValue } from '@flotilla/edge-agent';

/** Faults one simulated device carries; the wrapper outlives agent restarts, so it stays the same device. */
export interface RuntimeFaults {
  /** Added before every `run`, in ms (a slow device). Default 0. */
  delayMs?: number;
  /**
   * Perturb the outputs of every model other than the first one this device loaded, so a new bundle
   * fails its self-test here and the agent rolls back (a device whose hardware or runtime is off).
   */
  breakNewModels?: boolean;
}

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps `inner` with `faults`; `firstModel` remembers the first model bytes ever loaded. */
export class FaultyRuntime implements InferenceRuntime {
  private firstModel: string | null = null;

  constructor(private readonly inner: InferenceRuntime, private readonly faults: RuntimeFaults) {}

  get name(): string {
    return this.inner.name;
  }

  get executionProviders(): readonly string[] {
    return this.inner.executionProviders;
  }

  get maxOpset(): number {
    return this.inner.maxOpset;
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    const session = await this.inner.load(modelBytes);
    const d = digest(modelBytes);
    this.firstModel ??= d;
    const broken = this.faults.breakNewModels === true && d !== this.firstModel;
    const delayMs = this.faults.delayMs ?? 0;
    if (!broken && delayMs <= 0) return session;
    return {
      inputs: session.inputs,
      outputNames: session.outputNames,
      release: () => session.release(),
      async run(feeds: Record<string, TensorValue>) {
        if (delayMs > 0) await sleep(delayMs);
        const out = await session.run(feeds);
        if (!broken) return out;
        // Far outside any self-test tolerance, and it reorders classes: a wrong model, not a rounding error.
        for (const t of Object.values(out)) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 - t.data[i]! + 0.5;
        return out;
      },
    };
  }
}
