// Holds the serving model: one reference swapped in one assignment, the old session released when idle.
import type { InferenceRuntime } from '../runtime/inference-runtime.ts';
import { defaultProvider, ProbedRuntime, type AcceleratorOptions } from './accelerator.ts';
import type { InstalledModel } from './installed-model.ts';
import { loadActiveModel, retire, type ActiveModel, type ModelInfo } from './active-model.ts';

/** The model predictions use. Updates load a candidate beside it and swap only after it passed its probe. */
export class ModelHost {
  private model: ActiveModel | null = null;

  constructor(
    readonly runtime: InferenceRuntime,
    private readonly onChange: (info: ModelInfo | null, previous: ModelInfo | null) => void,
    private readonly accelerator?: AcceleratorOptions,
  ) {}

  /** The serving model, or null. */
  get current(): ActiveModel | null {
    return this.model;
  }

  /** Loads `installed` as a candidate (on the accelerator when it earns it); it serves nothing until {@link swap}. */
  async load(installed: InstalledModel): Promise<ActiveModel> {
    if (!this.accelerator) {
      const model = await loadActiveModel(installed, this.runtime);
      model.provider = { provider: defaultProvider(this.runtime), reason: 'no accelerator configured' };
      return model;
    }
    const probed = new ProbedRuntime(this.runtime, this.accelerator, installed.manifest);
    const model = await loadActiveModel(installed, probed);
    model.provider = probed.choice ?? undefined;
    return model;
  }

  /** Makes `next` the serving model (one assignment) and retires the old one once its predictions end. */
  swap(next: ActiveModel | null): void {
    const previous = this.model;
    if (previous === next) return;
    this.model = next;
    if (previous) retire(previous);
    this.onChange(next?.info ?? null, previous?.info ?? null);
  }

  /** Drops the serving model on close: retired once its predictions end, no change reported. */
  release(): void {
    const previous = this.model;
    this.model = null;
    if (previous) retire(previous);
  }

  /** Serves `installed` unless it already serves (same slot and envelope). */
  async ensure(installed: InstalledModel | null): Promise<void> {
    if (!installed) return this.swap(null);
    const m = this.model;
    if (m && m.slot === installed.slot && m.envelopeDigest === installed.envelopeDigest) return;
    this.swap(await this.load(installed));
  }
}
