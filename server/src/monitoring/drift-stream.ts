// One monitored stream (a feature, the predictions or the confidence of one model in one cohort):
// pools counts into detection windows, learns a baseline when there is no reference, and keeps hysteresis.
import type { DriftLevel } from './alert.ts';
import type { DriftConfig } from './drift-config.ts';
import { prepareReference, scoreAgainstBaseline, scorePrepared, sum, type DriftScores, type PreparedReference } from './drift-metrics.ts';

/** A closed detection window, scored, waiting for the family-wide significance decision. */
export interface WindowVerdict {
  stream: DriftStream;
  scores: DriftScores;
  /** Earliest start and latest end of the device windows pooled in it (ms since the epoch). */
  start: number;
  end: number;
}

/** Why a stream could not use a window's counts. */
export type StreamIssue = 'bin_count_mismatch' | 'learning_baseline';

export class DriftStream {
  private pending: number[] | null = null;
  private pendingN = 0;
  private prepared: PreparedReference | null;
  private pendingStart = Infinity;
  private pendingEnd = -Infinity;
  private baseline: number[] | null = null;
  private baselineKey: string | null = null;
  /** Consecutive breaching windows. */
  breachRun = 0;
  /** Consecutive clean windows while alerting. */
  okRun = 0;
  alerting = false;
  /** Start of the first breaching window of the current run (ms), or null. */
  runSince: number | null = null;
  /** Windows tested since runSince. */
  runWindows = 0;
  peakPsi = 0;
  windowsTested = 0;
  /** When the stream last received counts (detector clock, ms). */
  lastActivity = -Infinity;
  last: { scores: DriftScores; level: DriftLevel; start: number; end: number } | null = null;

  /**
   * @param frequencies the reference shares, or null to learn a baseline from the first
   *   `config.baselineSamples` observations.
   */
  constructor(
    readonly cohort: string,
    readonly model: string,
    readonly name: string,
    private frequencies: readonly number[] | null,
    private readonly config: DriftConfig,
  ) {
    this.prepared = frequencies ? prepareReference(frequencies, config.psiEpsilon) : null;
  }

  get pendingCount(): number {
    return this.pendingN;
  }

  get baselineCount(): number {
    return this.baseline ? sum(this.baseline) : 0;
  }

  get hasReference(): boolean {
    return this.frequencies !== null;
  }

  /** Replaces the reference (a re-registered model); pooled counts and the learned baseline are dropped. */
  setReference(frequencies: readonly number[] | null): void {
    this.frequencies = frequencies;
    this.prepared = frequencies ? prepareReference(frequencies, this.config.psiEpsilon) : null;
    this.pending = null;
    this.pendingN = 0;
    this.baseline = null;
    this.baselineKey = null;
  }

  /**
   * Adds one device window's counts. `key` names the bin layout when there is no reference (e.g. the
   * confidence edges): a new layout restarts the baseline. Returns a verdict when a detection window closes.
   */
  add(counts: readonly number[], start: number, end: number, key = String(counts.length)): WindowVerdict | StreamIssue | null {
    if (this.frequencies) {
      if (counts.length !== this.frequencies.length) return 'bin_count_mismatch';
    } else {
      if (this.baselineKey !== key) {
        this.baseline = null;
        this.pending = null;
        this.pendingN = 0;
        this.baselineKey = key;
      }
      if (!this.baseline || sum(this.baseline) < this.config.baselineSamples) {
        this.baseline = addInto(this.baseline, counts);
        return 'learning_baseline';
      }
    }
    const n = sum(counts);
    if (n === 0) return null;
    this.pending = addInto(this.pending, counts);
    this.pendingN += n;
    this.pendingStart = Math.min(this.pendingStart, start);
    this.pendingEnd = Math.max(this.pendingEnd, end);
    if (this.pendingN < this.config.minSamples) return null;
    const c = this.config;
    const scores = this.prepared
      ? scorePrepared(this.pending, this.prepared, c.minExpected)
      : scoreAgainstBaseline(this.pending, this.baseline!, c.psiEpsilon, c.minExpected);
    const verdict: WindowVerdict = { stream: this, scores, start: this.pendingStart, end: this.pendingEnd };
    this.pending.fill(0);
    this.pendingN = 0;
    this.pendingStart = Infinity;
    this.pendingEnd = -Infinity;
    return verdict;
  }

  /** Applies one tested window's level to the hysteresis: raise after `raiseAfter` breaches, clear after `clearAfter` clean windows. */
  step(v: WindowVerdict, level: DriftLevel): void {
    this.windowsTested++;
    this.last = { scores: v.scores, level, start: v.start, end: v.end };
    if (level !== 'ok') {
      this.breachRun++;
      this.okRun = 0;
      if (this.runSince === null) {
        this.runSince = v.start;
        this.runWindows = 0;
        this.peakPsi = 0;
      }
      this.peakPsi = Math.max(this.peakPsi, v.scores.psi);
      if (this.breachRun >= this.config.raiseAfter) this.alerting = true;
    } else {
      this.breachRun = 0;
      if (this.alerting) {
        this.okRun++;
        if (this.okRun >= this.config.clearAfter) this.reset();
      } else {
        this.runSince = null;
      }
    }
    if (this.runSince !== null) this.runWindows++;
  }

  /** Back to normal: not alerting, no run in progress. */
  reset(): void {
    this.alerting = false;
    this.okRun = 0;
    this.breachRun = 0;
    this.runSince = null;
    this.runWindows = 0;
    this.peakPsi = 0;
  }

  /** Marks the stream as alerting (an open alert restored after a restart). */
  resume(since: number, peakPsi: number): void {
    this.alerting = true;
    this.breachRun = this.config.raiseAfter;
    this.runSince = since;
    this.peakPsi = peakPsi;
  }
}

function addInto(acc: number[] | null, counts: readonly number[]): number[] {
  const out = acc ?? new Array<number>(counts.length).fill(0);
  for (let i = 0; i < counts.length; i++) out[i]! += counts[i]!;
  return out;
}
