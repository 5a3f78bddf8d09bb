// A runtime that wraps another and answers for it everywhere but `load`: the base of runtimes that decide
// how a model loads (the agent's accelerator probe, the simulator's fault injection and shared sessions).
import type { InferenceRuntime, ModelSession } from './inference-runtime.ts';

/** Forwards `name`, `executionProviders` and `maxOpset` to `inner`; subclasses say how a model loads. */
export abstract class WrappedRuntime implements InferenceRuntime {
  constructor(protected readonly inner: InferenceRuntime) {}

  get name(): string {
    return this.inner.name;
  }

  get executionProviders(): readonly string[] {
    return this.inner.executionProviders;
  }

  get maxOpset(): number {
    return this.inner.maxOpset;
  }

  abstract load(modelBytes: Uint8Array): Promise<ModelSession>;
}
