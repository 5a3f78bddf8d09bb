// The shadow model: loaded beside the serving one, run after each sampled answer, never answering the app.
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import { finishUse, retire, type ActiveModel, type ModelInfo } from '../model/active-model.ts';
import { describeError, errorCode } from '../errors.ts';
import { compareShadow, type ServingAnswer } from './shadow-compare.ts';
import type { ShadowOutcome } from './shadow-tally.ts';

/** What the runner needs from the agent. */
export interface ShadowRunnerDeps {
  /** Fetches, verifies and loads a shadow bundle (see `loadShadow`). */
  load: (ref: BundleRef, signal: AbortSignal) => Promise<ActiveModel>;
  /** One finished shadow run, into the current telemetry window. */
  record: (model: ModelInfo, outcome: ShadowOutcome, ms: number) => void;
  /** The shadow was loaded (model), unloaded (null), or failed to load (error). */
  onChange: (model: ModelInfo | null, error?: { code: string; message: string }) => void;
  random?: () => number;
  /** Shadow runs at once; past this, calls are not sampled (default 4). */
  maxInflight?: number;
  /** Load attempts before giving up until the desired state changes (default 3), and the pause between them. */
  attempts?: number;
  retryMs?: number;
}

/**
 * Holds at most one shadow model. `offer` costs the serving path one preprocessing of the row (its
 * own copy, so the app may reuse its buffers) and nothing else: the run starts on a later turn of the
 * event loop, after the caller has its answer, and whatever it throws is counted, never rethrown. A
 * shadow slower than the traffic is sampled down (`maxInflight`) instead of queueing without bound.
 */
export class ShadowRunner {
  private model: ActiveModel | null = null;
  private wanted: string | null = null;
  private rate = 1;
  private loading: AbortController | null = null;
  private inflight = 0;
  private closed = false;
  private readonly random: () => number;

  constructor(private readonly d: ShadowRunnerDeps) {
    this.random = d.random ?? Math.random;
  }

  /** The loaded shadow model, or null. */
  get info(): ModelInfo | null {
    return this.model?.info ?? null;
  }

  /** Follows the desired state [WIRE-2.2.1]: a new shadow is loaded, null unloads, the same one only changes the rate. */
  set(ref: BundleRef | null, rate = 1): void {
    if (this.closed) return;
    this.rate = rate;
    const key = ref?.manifestDigest ?? null;
    if (key === this.wanted) return;
    this.wanted = key;
    this.loading?.abort();
    this.loading = null;
    this.unload();
    if (ref) void this.loadWithRetries(ref);
  }

  /** Called after the serving model answered `raw`; maybe runs the shadow on it, later. */
  offer(raw: ArrayLike<number>, serving: ServingAnswer): void {
    const m = this.model;
    if (!m || this.inflight >= (this.d.maxInflight ?? 4) || (this.rate < 1 && this.random() >= this.rate)) return;
    this.inflight++;
    m.inflight++;
    let input: Float32Array | null = new Float32Array(m.rowSize);
    try {
      m.pipeline.apply(raw, input, 0);
    } catch {
      input = null;
    }
    setTimeout(() => void this.run(m, input, serving), 0);
  }

  /** Unloads the shadow and stops following the desired state. */
  close(): void {
    this.closed = true;
    this.loading?.abort();
    this.unload();
  }

  private async run(m: ActiveModel, input: Float32Array | null, serving: ServingAnswer): Promise<void> {
    const t0 = performance.now();
    let outcome: ShadowOutcome = 'error';
    try {
      if (input) {
        const out = await m.session.run({ [m.inputName]: { data: input, dims: m.dims1 } });
        outcome = compareShadow(serving, out[m.primaryOutput]?.data);
      }
    } catch {
      outcome = 'error';
    } finally {
      this.inflight--;
      finishUse(m);
    }
    // A run that finishes after its shadow was replaced says nothing about the new one.
    if (this.model === m) this.d.record(m.info, outcome, performance.now() - t0);
  }

  private async loadWithRetries(ref: BundleRef): Promise<void> {
    const ctl = new AbortController();
    this.loading = ctl;
    const attempts = this.d.attempts ?? 3;
    for (let i = 1; ; i++) {
      try {
        const m = await this.d.load(ref, ctl.signal);
        if (ctl.signal.aborted || this.closed) return retire(m);
        this.model = m;
        this.loading = null;
        return this.d.onChange(m.info);
      } catch (err) {
        if (ctl.signal.aborted) return;
        if (i >= attempts) {
          this.loading = null;
          return this.d.onChange(null, { code: errorCode(err), message: `shadow ${ref.model} ${ref.version}: ${describeError(err)}` });
        }
        await new Promise((r) => setTimeout(r, (this.d.retryMs ?? 1000) * i));
        if (ctl.signal.aborted) return;
      }
    }
  }

  private unload(): void {
    const m = this.model;
    if (!m) return;
    this.model = null;
    retire(m);
    this.d.onChange(null);
  }
}
