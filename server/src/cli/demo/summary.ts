// The demo's closing numbers: field accuracy per cohort and phase (from simulator snapshots), alerts, the retrain
// and the gate, rollouts with the bytes the server measured sending.
import type { CohortStats } from '../../simulator/index.ts';
import type { StepRecord } from './narrator.ts';

export type Phase = 'before' | 'during' | 'after';
export type CohortSnapshot = Record<string, CohortStats>;

export interface RolloutSummary {
  version: string;
  bundle: string;
  /** Size of the bundle's payload as built, and how many devices took it. */
  bundleBytes: number;
  devices: number;
  state: string;
  durationMs: number;
  /** Bytes the server sent to devices during the rollout (its `flotilla_chunk_bytes_served_total`, all transports). */
  bytesSent: number;
}

/** A drift alert as the summary lists it. */
export interface AlertSummary {
  id: string;
  cohort: string;
  model: string;
  severity: string;
  state: string;
}

/** A retrain job's outcome: what started it, the data, the gate's deltas (points) and reasons for refusal. */
export interface RetrainSummary {
  id: string;
  trigger: string;
  status: string;
  challenger: string | null;
  fieldRows: number | null;
  holdoutRows: number | null;
  fieldDelta: number | null;
  testDelta: number | null;
  failures: string[];
}

export interface DemoSummary {
  ok: boolean;
  /** The first failed step's error, when a step failed. */
  error: string | null;
  versions: string[];
  /** Field accuracy (0-1, null without labels) per cohort and phase. */
  accuracy: Record<string, Record<Phase, number | null>>;
  /** Labelled predictions behind each accuracy figure. */
  labelled: Record<string, Record<Phase, number>>;
  /** Cohorts with an open drift alert on v1 when the retrain started: the snow should show in `car` only. */
  driftCohorts: string[];
  /** Every alert raised during the demo, newest first. */
  alerts: AlertSummary[];
  /** The retrain the retraining policy started on the drift alert. */
  retrain: RetrainSummary | null;
  /** A deliberately undertrained challenger the demo offers the gate afterwards; `refusedWorse` when the gate said no. */
  gate: { refusedWorse: boolean; worse: RetrainSummary | null };
  rollouts: RolloutSummary[];
  bytesSent: number;
  /** Cars after retraining minus before the snow, in points (null when either is missing). */
  carRecoveryPoints: number | null;
  steps: StepRecord[];
  totalMs: number;
}

/** Accuracy and labelled count of the predictions labelled between two cumulative snapshots. */
export function between(from: CohortSnapshot, to: CohortSnapshot): Record<string, { accuracy: number | null; labelled: number }> {
  const out: Record<string, { accuracy: number | null; labelled: number }> = {};
  for (const [cohort, b] of Object.entries(to)) {
    const a = from[cohort];
    const correct = (s: CohortStats | undefined) => (s?.accuracy ?? 0) * (s?.labelled ?? 0);
    const labelled = b.labelled - (a?.labelled ?? 0);
    out[cohort] = { accuracy: labelled > 0 ? (correct(b) - correct(a)) / labelled : null, labelled };
  }
  return out;
}

const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const signed = (x: number | null) => (x === null ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);
const retrainLine = (r: RetrainSummary | null) =>
  r
    ? `${r.status} ${r.challenger ?? ''} (${r.trigger}; field ${signed(r.fieldDelta)} points, test ${signed(r.testDelta)} points vs champion)${r.failures.length ? `: ${r.failures.join('; ')}` : ''}`
    : 'not run';

/** The human table printed at the end of a demo. */
export function renderSummary(s: DemoSummary): string {
  const lines = [`versions: ${s.versions.join(', ')}`, '', 'COHORT    BEFORE SNOW  DURING SNOW  AFTER RETRAIN  (labelled predictions)'];
  for (const [c, a] of Object.entries(s.accuracy)) {
    const n = s.labelled[c];
    lines.push(
      `${c.padEnd(10)}${pct(a.before).padEnd(13)}${pct(a.during).padEnd(13)}${pct(a.after).padEnd(15)}(${n ? `${n.before} / ${n.during} / ${n.after}` : '-'})`,
    );
  }
  lines.push('', 'ROLLOUT   STATE      DURATION  DEVICES  BUNDLE BYTES  BYTES SENT (measured)');
  for (const r of s.rollouts) {
    lines.push(
      `${r.version.padEnd(10)}${r.state.padEnd(11)}${`${(r.durationMs / 1000).toFixed(1)} s`.padEnd(10)}${String(r.devices).padEnd(9)}${String(r.bundleBytes).padEnd(14)}${r.bytesSent}`,
    );
  }
  lines.push('', `drift alerts when the retrain started: ${s.driftCohorts.length ? s.driftCohorts.join(', ') : 'none'}`);
  lines.push(
    `all drift alerts: ${
      s.alerts.length
        ? [...s.alerts]
            .reverse()
            .map((a) => `${a.cohort} on ${a.model} (${a.severity}, ${a.state})`)
            .join('; ')
        : 'none'
    }`,
  );
  lines.push(`retrain: ${retrainLine(s.retrain)}`);
  lines.push(`worse challenger: ${retrainLine(s.gate.worse)}`);
  lines.push(`cars after retraining vs before the snow: ${s.carRecoveryPoints === null ? '-' : `${signed(s.carRecoveryPoints)} points`}`);
  lines.push(`total ${(s.totalMs / 1000).toFixed(0)} s, ${s.ok ? 'every step succeeded' : `a step FAILED: ${s.error}`}`);
  return lines.join('\n');
}
