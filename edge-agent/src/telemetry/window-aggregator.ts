// One telemetry window's counts [WIRE-2.5]: requests, errors, latency, classes, confidence, features, feedback.
import { binIndex, type FeatureProfile } from '@flotilla/firmware-bundler';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { ActiveModel, ModelInfo } from '../model/active-model.ts';
import { ShadowTally } from '../shadow/shadow-tally.ts';
import { LATENCY_EDGES_MS, LatencyStats } from './latency-stats.ts';

/** Confidence histogram edges: ten bins of 0.1. */
export const CONFIDENCE_EDGES: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Accumulates one window. Counts only, so a window's size does not grow with traffic. */
export class WindowAggregator {
  readonly startedAt: number;
  private requests = 0;
  private errors = 0;
  private clientErrors = 0;
  private readonly latency: LatencyStats;
  private predictions: number[] = [];
  private readonly confidence = new Array<number>(CONFIDENCE_EDGES.length - 1).fill(0);
  private readonly features = new Map<string, { profile: FeatureProfile; counts: number[] }>();
  private profiles: readonly FeatureProfile[] = [];
  private values = new Float64Array(0);
  private labelled = 0;
  private correct = 0;
  private readonly byClass = { labelled: [] as number[], correct: [] as number[] };
  /** Shadow runs that finished in this window [WIRE-2.2.1]. */
  readonly shadow: ShadowTally;

  constructor(
    now: number,
    private readonly model: ActiveModel | null,
    random?: () => number,
  ) {
    this.startedAt = now;
    this.latency = new LatencyStats(random);
    this.shadow = new ShadowTally(random);
    if (model) {
      this.profiles = (model.manifest.referenceProfile?.features ?? []).filter((f) => model.featureNames.includes(f.name));
      for (const p of this.profiles) this.features.set(p.name, { profile: p, counts: new Array<number>(p.edges.length - 1).fill(0) });
      this.values = new Float64Array(this.profiles.length);
    }
  }

  /** The model this window is about (a model swap closes the window). */
  get modelInfo(): ModelInfo | null {
    return this.model?.info ?? null;
  }

  /**
   * One answered row: `input` is the model input after preprocessing, at `offset`. A named-tensor call passes
   * `input` null (no feature bins describe it) and `top1` -1 when its model is not a classifier.
   */
  recordPrediction(input: Float32Array | null, offset: number, top1: number, confidence: number, latencyMs: number): void {
    this.requests++;
    this.latency.add(latencyMs);
    if (top1 < 0) return;
    while (this.predictions.length <= top1) this.predictions.push(0);
    this.predictions[top1]!++;
    this.confidence[binIndex(CONFIDENCE_EDGES, confidence)]!++;
    if (this.profiles.length === 0 || !this.model || !input) return;
    this.model.extractFeatures(input, offset, this.values);
    for (let i = 0; i < this.profiles.length; i++) {
      const f = this.features.get(this.profiles[i]!.name)!;
      f.counts[binIndex(f.profile.edges, this.values[i]!)]!++;
    }
  }

  /** One failed call (each row of a failed batch counts as a request and an error). */
  recordError(latencyMs: number, rows = 1): void {
    this.requests += rows;
    this.errors += rows;
    for (let i = 0; i < rows; i++) this.latency.add(latencyMs);
  }

  /** Rows refused as bad input before the model ran [WIRE-2.5.2]: not a request the model failed. */
  recordClientError(rows = 1): void {
    this.clientErrors += rows;
  }

  /** One ground-truth label arrived: `label` is the true class index [WIRE-2.5.1]. */
  recordFeedback(label: number, correct: boolean): void {
    this.labelled++;
    if (correct) this.correct++;
    if (label >= 1000) return;
    while (this.byClass.labelled.length <= label) {
      this.byClass.labelled.push(0);
      this.byClass.correct.push(0);
    }
    this.byClass.labelled[label]!++;
    if (correct) this.byClass.correct[label]!++;
  }

  /** The finished window, ready to queue. */
  close(seq: number, now: number, dropped: number): TelemetryWindow {
    const features: Record<string, number[]> = {};
    for (const [name, f] of this.features) features[name] = f.counts;
    return {
      v: 1,
      seq,
      start: new Date(this.startedAt).toISOString(),
      end: new Date(now).toISOString(),
      model: this.model?.info ?? null,
      requests: this.requests,
      errors: this.errors,
      clientErrors: this.clientErrors,
      latencyMs: { ...this.latency.percentiles(), hist: { edges: [...LATENCY_EDGES_MS], counts: this.latency.counts } },
      predictions: this.predictions.slice(0, 1000),
      confidence: { edges: [...CONFIDENCE_EDGES], counts: this.confidence },
      features,
      feedback: { labelled: this.labelled, correct: this.correct, ...(this.labelled ? { byClass: this.byClass } : {}) },
      shadow: this.shadow.summary(),
      dropped,
    };
  }
}
