// The rollout and stage state machines as one transition table, and the pure gate verdict.
import { RolloutError } from './rollout-error.ts';
import type { Gates } from './rollout-spec.ts';

export const ROLLOUT_STATES = ['draft', 'running', 'paused', 'waiting_approval', 'completed', 'aborted', 'rolled_back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const STAGE_STATES = ['pending', 'active', 'passed', 'failed', 'rolled_back'] as const;
export type StageState = (typeof STAGE_STATES)[number];

/** Operator actions are events too; `stage_passed`, `await_approval`, `finish`, `gate_failed*` come from ticks. */
export type RolloutEvent =
  | 'start'
  | 'pause'
  | 'resume'
  | 'advance'
  | 'abort'
  | 'rollback'
  | 'stage_passed'
  | 'await_approval'
  | 'finish'
  | 'gate_failed'
  | 'gate_failed_abort'
  | 'insufficient_evidence';
export type StageEvent = 'activate' | 'pass' | 'fail' | 'rollback';

/**
 * Every legal transition. The engine reports what happened (an event); this table alone decides the
 * next state. Anything not listed is an ILLEGAL_TRANSITION. `completed` and `rolled_back` are final:
 * to undo a completed rollout, roll out the previous bundle (the conflict rule then applies as usual).
 */
const TABLE = [
  // machine   from                event                to
  ['rollout', 'draft', 'start', 'running'],
  ['rollout', 'draft', 'abort', 'aborted'],
  ['rollout', 'running', 'stage_passed', 'running'],
  ['rollout', 'running', 'await_approval', 'waiting_approval'],
  ['rollout', 'running', 'finish', 'completed'],
  ['rollout', 'running', 'gate_failed', 'paused'],
  ['rollout', 'running', 'gate_failed_abort', 'aborted'],
  // The stage timed out without enough evidence to judge: always a pause (nothing is known to be wrong).
  ['rollout', 'running', 'insufficient_evidence', 'paused'],
  ['rollout', 'running', 'pause', 'paused'],
  ['rollout', 'running', 'advance', 'running'],
  ['rollout', 'running', 'abort', 'aborted'],
  ['rollout', 'running', 'rollback', 'rolled_back'],
  ['rollout', 'waiting_approval', 'advance', 'running'],
  ['rollout', 'waiting_approval', 'pause', 'paused'],
  ['rollout', 'waiting_approval', 'abort', 'aborted'],
  ['rollout', 'waiting_approval', 'rollback', 'rolled_back'],
  ['rollout', 'paused', 'resume', 'running'],
  ['rollout', 'paused', 'advance', 'running'],
  ['rollout', 'paused', 'abort', 'aborted'],
  ['rollout', 'paused', 'rollback', 'rolled_back'],
  ['rollout', 'aborted', 'rollback', 'rolled_back'],
  ['stage', 'pending', 'activate', 'active'],
  ['stage', 'active', 'pass', 'passed'],
  ['stage', 'active', 'fail', 'failed'],
  ['stage', 'active', 'rollback', 'rolled_back'],
  ['stage', 'passed', 'rollback', 'rolled_back'],
  ['stage', 'failed', 'rollback', 'rolled_back'],
] as const satisfies readonly (
  readonly ['rollout', RolloutState, RolloutEvent, RolloutState] | readonly ['stage', StageState, StageEvent, StageState]
)[];

type Machine = { rollout: [RolloutState, RolloutEvent]; stage: [StageState, StageEvent] };

/** The state after `event` in `from`; throws ILLEGAL_TRANSITION when the table has no such row. */
export function transition<M extends keyof Machine>(machine: M, from: Machine[M][0], event: Machine[M][1]): Machine[M][0] {
  const row = TABLE.find((r) => r[0] === machine && r[1] === from && r[2] === event);
  if (!row)
    throw new RolloutError('ILLEGAL_TRANSITION', `cannot ${event.replace(/_/g, ' ')} a ${machine} that is ${from.replace(/_/g, ' ')}`, {
      machine,
      from,
      event,
    });
  return row[3] as Machine[M][0];
}

/** Events the table accepts in `from` (for the console's buttons). */
export function allowedEvents<M extends keyof Machine>(machine: M, from: Machine[M][0]): Machine[M][1][] {
  return TABLE.filter((r) => r[0] === machine && r[1] === from).map((r) => r[2] as Machine[M][1]);
}

/** States in which a rollout holds its devices (the conflict rule counts these). */
export const ACTIVE_STATES: readonly RolloutState[] = ['draft', 'running', 'paused', 'waiting_approval'];
export const isActive = (s: RolloutState): boolean => ACTIVE_STATES.includes(s);

/**
 * What the gates are judged on, for one stage's devices. `devices` and `failed` come from the
 * rollout's own device records; the rest from monitoring (null: not measured yet).
 */
export interface StageStats {
  /** Devices in the stage (superseded ones excluded). */
  devices: number;
  /** Devices whose install failed or that rolled themselves back. */
  failed: number;
  /** Devices that sent telemetry on the new model (on the shadow, for shadow stages) since the stage began. */
  reporting: number;
  /**
   * Model calls on the new model since the stage began (shadow: shadow runs): the evidence behind the
   * error rate, latency, confidence and disagreement. Absent in verdicts recorded before it existed.
   */
  requests?: number;
  /** Of those, calls the model failed (the numerator of `errorRate`). */
  errors?: number;
  /** Requests refused as bad input before reaching the model [WIRE-2.5 `clientErrors`]: shown, never judged. */
  clientErrors?: number;
  /** Rows counted into the drift features: the evidence behind `driftScore`. */
  driftSamples?: number;
  /** Inference errors per request, 0..1. */
  errorRate: number | null;
  p95LatencyMs: number | null;
  /** Reference mean top-1 confidence minus the stage's, 0..1 (positive: less confident). */
  confidenceDrop: number | null;
  /** Input drift against the bundle's reference bins (PSI). */
  driftScore: number | null;
  /** Shadow stages: share of requests where the shadow's answer differed from the serving model's. */
  disagreement: number | null;
}

export interface GateFailure {
  gate: keyof Gates;
  value: number;
  limit: number;
}

/** A gate that has too little evidence to be judged yet: `have` of the `need`ed `unit`s. */
export interface EvidenceShort {
  gate: keyof Gates;
  have: number;
  need: number;
  unit: 'devices' | 'requests' | 'drift samples';
}

/** `pass`: every gate holds on enough evidence; `fail`: a gate fails; `waiting`: none fails, some lack evidence. */
export type VerdictState = 'pass' | 'fail' | 'waiting';

export interface GateVerdict {
  pass: boolean;
  /** One word for the verdict; a failure wins over waiting. Absent in verdicts recorded before it existed. */
  state?: VerdictState;
  failures: GateFailure[];
  /** Too few devices reporting, or a gated metric short of evidence: wait, do not fail. */
  insufficient?: true;
  /** Gated metrics that had no value. */
  missing?: (keyof Gates)[];
  /** What each waiting gate still needs ("3 of 50 requests"). */
  waiting?: EvidenceShort[];
}

/** Minimum evidence of stages whose stored spec predates these fields (see `Gates`). */
const MIN_REQUESTS = 50;
const MIN_DRIFT_SAMPLES = 200;

/** "3 of 50 requests for maxErrorRate; 1 of 2 devices for minReporting". */
export const describeShort = (w: readonly EvidenceShort[]): string =>
  w.map((x) => `${x.have} of ${x.need} ${x.unit} for ${x.gate}`).join('; ');

/**
 * The stage's verdict. The install failure rate is always judged; the health gates only once at least
 * `minReporting` of the stage's devices report (a canary's first report is not a trend), and each only
 * on its minimum evidence: `minRequests` model calls for error rate, latency, confidence and
 * disagreement, `minDriftSamples` rows for drift. Below it a gate waits, never fails, with one
 * exception: errors already too many for the error rate to end below its limit even if every
 * remaining call of the minimum succeeded (10 failed calls of 10 against a 2% limit) fail at once.
 * Shadow stages are judged on the shadow's error rate, latency and disagreement: devices measure no
 * confidence or drift for a model that does not answer. Client errors (bad input) are never judged.
 * An empty stage passes.
 */
export function evaluateGates(stage: { shadow: boolean; gates: Gates }, stats: StageStats): GateVerdict {
  const g = stage.gates;
  if (stats.devices === 0) return { pass: true, state: 'pass', failures: [] };
  const failures: GateFailure[] = [];
  const failureRate = stats.failed / stats.devices;
  if (failureRate > g.maxFailureRate) failures.push({ gate: 'maxFailureRate', value: failureRate, limit: g.maxFailureRate });
  const missing: (keyof Gates)[] = [];
  const waiting: EvidenceShort[] = [];
  // minReporting 0 means the operator gates on install success alone: no telemetry is awaited.
  const needDevices = Math.max(1, Math.ceil(g.minReporting * stats.devices - 1e-9));
  const reportingShort = g.minReporting > 0 && stats.reporting < needDevices;
  if (reportingShort) waiting.push({ gate: 'minReporting', have: stats.reporting, need: needDevices, unit: 'devices' });
  else {
    const minRequests = g.minRequests ?? MIN_REQUESTS;
    const minDrift = g.minDriftSamples ?? MIN_DRIFT_SAMPLES;
    // Callers that count no evidence (older health ports) are judged as before: on the value alone.
    const requests = stats.requests ?? Infinity;
    const drift = stats.driftSamples ?? Infinity;
    type Check = [keyof Gates, number | null, number | null, number, number, EvidenceShort['unit']];
    const checks: Check[] = stage.shadow
      ? [['maxDisagreement', stats.disagreement, g.maxDisagreement, requests, minRequests, 'requests']]
      : [
          ['maxConfidenceDrop', stats.confidenceDrop, g.maxConfidenceDrop, requests, minRequests, 'requests'],
          ['maxDriftScore', stats.driftScore, g.maxDriftScore, drift, minDrift, 'drift samples'],
        ];
    const health: Check[] = [
      ['maxErrorRate', stats.errorRate, g.maxErrorRate, requests, minRequests, 'requests'],
      ['maxP95LatencyMs', stats.p95LatencyMs, g.maxP95LatencyMs, requests, minRequests, 'requests'],
      ...checks,
    ];
    for (const [gate, value, limit, have, need, unit] of health) {
      if (limit === null) continue;
      if (gate === 'maxErrorRate' && stats.errors !== undefined && have < need && stats.errors / need > limit) {
        failures.push({ gate, value: stats.errors / Math.max(1, have), limit });
        continue;
      }
      if (value === null) {
        // Not measured at all (no traffic, or no reference to compare with): nothing of the evidence counts.
        missing.push(gate);
        waiting.push({ gate, have: 0, need, unit });
      } else if (have < need) waiting.push({ gate, have, need, unit });
      else if (value > limit) failures.push({ gate, value, limit });
    }
  }
  const insufficient = waiting.length > 0;
  const state: VerdictState = failures.length > 0 ? 'fail' : insufficient ? 'waiting' : 'pass';
  return {
    pass: state === 'pass',
    state,
    failures,
    ...(insufficient ? { insufficient: true as const, waiting } : {}),
    ...(missing.length ? { missing } : {}),
  };
}
