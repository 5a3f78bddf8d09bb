// One telemetry window's shadow counts [WIRE-2.2.1]: runs, errors, agreements with the serving answer, latency.
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { ModelInfo } from '../model/active-model.ts';
import { LatencyStats } from '../telemetry/latency-stats.ts';

/** How one shadow run compared with the serving model's answer. */
export type ShadowOutcome = 'agree' | 'disagree' | 'error';

/** Accumulates the shadow runs that finished during one window. */
export class ShadowTally {
  private model: ModelInfo | null = null;
  private requests = 0;
  private errors = 0;
  private agreements = 0;
  private readonly latency: LatencyStats;

  constructor(random?: () => number) {
    this.latency = new LatencyStats(random);
  }

  /** One finished shadow run of `model`, which took `ms` (the shadow alone). */
  record(model: ModelInfo, outcome: ShadowOutcome, ms: number): void {
    // A window names one shadow model; a new one mid-window (rare: the rollout moved on) names the newest.
    this.model = model;
    this.requests++;
    if (outcome === 'error') this.errors++;
    if (outcome === 'agree') this.agreements++;
    this.latency.add(ms);
  }

  /** The window's `shadow` field: null when no shadow ran. */
  summary(): TelemetryWindow['shadow'] {
    if (!this.model || this.requests === 0) return null;
    return {
      model: this.model,
      requests: this.requests,
      errors: this.errors,
      agreements: this.agreements,
      latencyP95Ms: this.latency.percentiles().p95,
    };
  }
}
