// The demo's closing numbers: field accuracy per cohort and phase (from simulator snapshots), rollouts, bytes.
import type { CohortStats } from '../simulator/index.ts';
import type { StepRecord } from './narrator.ts';

export type Phase = 'before' | 'during' | 'after';
export type CohortSnapshot = Record<string, CohortStats>;

export interface RolloutSummary {
  version: string;
  bundle: string;
  state: string;
  durationMs: number;
  /** Bundle bytes times the devices updated. */
  bytesSent: number;
}

export interface DemoSummary {
  ok: boolean;
  versions: string[];
  /** Field accuracy (0-1, null without labels) per cohort and phase. */
  accuracy: Record<string, Record<Phase, number | null>>;
  rollouts: RolloutSummary[];
  bytesSent: number;
  retrain: { status: string; challenger: string | null; failures: string[] } | null;
  /** Cars after retraining minus before the snow, in points (null when either is missing). */
  carRecoveryPoints: number | null;
  steps: StepRecord[];
  totalMs: number;
}

/** Accuracy of the predictions labelled between two cumulative snapshots. */
export function accuracyBetween(from: CohortSnapshot, to: CohortSnapshot): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [cohort, b] of Object.entries(to)) {
    const a = from[cohort];
    const correct = (s: CohortStats | undefined) => (s?.accuracy ?? 0) * (s?.labelled ?? 0);
    const labelled = b.labelled - (a?.labelled ?? 0);
    out[cohort] = labelled > 0 ? (correct(b) - correct(a)) / labelled : null;
  }
  return out;
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

/** The human table printed at the end of a demo. */
export function renderSummary(s: DemoSummary): string {
  const lines = [`versions: ${s.versions.join(', ')}`, '', 'COHORT    BEFORE SNOW  DURING SNOW  AFTER RETRAIN'];
  for (const [c, a] of Object.entries(s.accuracy)) lines.push(`${c.padEnd(10)}${pct(a.before).padEnd(13)}${pct(a.during).padEnd(13)}${pct(a.after)}`);
  lines.push('', 'ROLLOUT   STATE      DURATION  BYTES SENT');
  for (const r of s.rollouts) lines.push(`${r.version.padEnd(10)}${r.state.padEnd(11)}${`${(r.durationMs / 1000).toFixed(1)} s`.padEnd(10)}${r.bytesSent}`);
  lines.push('', `retrain: ${s.retrain ? `${s.retrain.status} ${s.retrain.challenger ?? ''} ${s.retrain.failures.join('; ')}` : 'not run'}`);
  lines.push(`cars after retraining vs before the snow: ${s.carRecoveryPoints === null ? '-' : `${s.carRecoveryPoints.toFixed(1)} points`}`);
  lines.push(`total ${(s.totalMs / 1000).toFixed(0)} s, ${s.ok ? 'every step succeeded' : 'a step FAILED'}`);
  return lines.join('\n');
}
