// Rollups: a window's counts added into the bucket of its hour, for the fleet, each cohort and the device, and
// into the bucket of its minute for the fleet and each cohort (kept for MINUTE_RETENTION_MS, so charts of the
// last hours show minutes; a device's minutes come from its raw windows instead of a row per device-minute).
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { mergeHistogram, type Histogram } from './histogram.ts';
import { modelKey } from './model-reference.ts';

/** What a rollup is for: the whole fleet (id `*`), one cohort (id = tag) or one device (id = device id). */
export type Scope = 'fleet' | 'cohort' | 'device';
export const SCOPES: readonly Scope[] = ['fleet', 'cohort', 'device'];
export const FLEET_ID = '*';
/** Model key of windows sent while no model was active. */
export const NO_MODEL = '(none)';
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
/** How long minute rollups are kept: charts of ranges up to a few hours read them. */
export const MINUTE_RETENTION_MS = 48 * HOUR_MS;
/** Bucket sizes of stored rollups. */
export type Resolution = 'hour' | 'minute';
/** Stored rollup rows of minute resolution carry this suffix on their scope (`fleet:minute`, `cohort:minute`). */
const MINUTE_SUFFIX = ':minute';
/** The scope value a store keeps rollups of `scope` at `resolution` under. */
export const storedScope = (scope: Scope, resolution: Resolution = 'hour'): string =>
  resolution === 'minute' ? scope + MINUTE_SUFFIX : scope;
/** Whether a stored scope value is of minute resolution. */
export const isMinuteScope = (stored: string): boolean => stored.endsWith(MINUTE_SUFFIX);

/** Summable counts of any number of windows. */
export interface RollupCounts {
  windows: number;
  requests: number;
  errors: number;
  /**
   * Requests refused as bad input before the model ran [WIRE-2.5 `clientErrors`]; not in `requests` or
   * `errors` (a malformed call says nothing about the model). Absent in rollups stored before it existed.
   */
  clientErrors?: number;
  /** Windows agents reported dropping from full offline queues. */
  dropped: number;
  latency: Histogram | null;
  /** Predicted-class counts, by class index. */
  predictions: number[];
  confidence: Histogram | null;
  /** Feature name → counts on the reference bins. */
  features: Record<string, number[]>;
  feedback: { labelled: number; correct: number; byClass?: { labelled: number[]; correct: number[] } };
  /** Shadow model [WIRE-2.2]: `latencyP95MsWeighted` is Σ window p95 × shadow requests (percentiles do not add; this gives a request-weighted mean). */
  shadow: { requests: number; errors: number; agreements: number; latencyP95MsWeighted: number };
}

/** One hour bucket of one scope and model. */
export interface Rollup extends RollupCounts {
  scope: Scope;
  id: string;
  model: string;
  /** Start of the bucket (the hour; the minute for minute rollups), ms since the epoch (UTC). */
  hour: number;
}

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
export const windowModel = (w: TelemetryWindow): string => (w.model ? modelKey(w.model) : NO_MODEL);

export function emptyCounts(): RollupCounts {
  return {
    windows: 0,
    requests: 0,
    errors: 0,
    clientErrors: 0,
    dropped: 0,
    latency: null,
    predictions: [],
    confidence: null,
    features: {},
    feedback: { labelled: 0, correct: 0 },
    shadow: { requests: 0, errors: 0, agreements: 0, latencyP95MsWeighted: 0 },
  };
}

/** Element-wise a += b, growing `a` with zeros when `b` is longer (vectors of different lengths never throw). */
export function addVector(a: number[], b: readonly number[]): number[] {
  while (a.length < b.length) a.push(0);
  for (let i = 0; i < b.length; i++) a[i]! += b[i]!;
  return a;
}

/** Adds `c` into `acc` (mutated and returned). Hot: runs once per window per rollup it belongs to. */
export function addCounts(acc: RollupCounts, c: RollupCounts): RollupCounts {
  acc.windows += c.windows;
  acc.requests += c.requests;
  acc.errors += c.errors;
  acc.clientErrors = (acc.clientErrors ?? 0) + (c.clientErrors ?? 0);
  acc.dropped += c.dropped;
  if (c.latency) acc.latency = mergeHistogram(acc.latency, c.latency);
  addVector(acc.predictions, c.predictions);
  if (c.confidence) acc.confidence = mergeHistogram(acc.confidence, c.confidence);
  for (const name in c.features) {
    const dst = acc.features[name];
    if (dst) addVector(dst, c.features[name]!);
    else acc.features[name] = c.features[name]!.slice();
  }
  acc.feedback.labelled += c.feedback.labelled;
  acc.feedback.correct += c.feedback.correct;
  if (c.feedback.byClass) {
    const bc = (acc.feedback.byClass ??= { labelled: [], correct: [] });
    addVector(bc.labelled, c.feedback.byClass.labelled);
    addVector(bc.correct, c.feedback.byClass.correct);
  }
  acc.shadow.requests += c.shadow.requests;
  acc.shadow.errors += c.shadow.errors;
  acc.shadow.agreements += c.shadow.agreements;
  acc.shadow.latencyP95MsWeighted += c.shadow.latencyP95MsWeighted ?? 0;
  return acc;
}

/** One window as rollup counts (sharing no arrays with the window). */
export function countsOfWindow(w: TelemetryWindow): RollupCounts {
  const c = emptyCounts();
  c.windows = 1;
  c.requests = w.requests;
  c.errors = w.errors;
  c.clientErrors = w.clientErrors ?? 0;
  c.dropped = w.dropped;
  c.latency = mergeHistogram(null, w.latencyMs.hist);
  c.predictions = [...w.predictions];
  c.confidence = mergeHistogram(null, w.confidence);
  for (const [name, counts] of Object.entries(w.features)) c.features[name] = [...counts];
  c.feedback = { labelled: w.feedback.labelled, correct: w.feedback.correct };
  if (w.feedback.byClass) c.feedback.byClass = { labelled: [...w.feedback.byClass.labelled], correct: [...w.feedback.byClass.correct] };
  if (w.shadow)
    c.shadow = {
      requests: w.shadow.requests,
      errors: w.shadow.errors,
      agreements: w.shadow.agreements,
      latencyP95MsWeighted: w.shadow.latencyP95Ms * w.shadow.requests,
    };
  return c;
}

/** The rollup buckets one device's window belongs to: the fleet, each of its cohorts, and the device. */
export function rollupKeys(deviceId: string, cohorts: readonly string[]): { scope: Scope; id: string }[] {
  return [{ scope: 'fleet', id: FLEET_ID }, ...cohorts.map((id) => ({ scope: 'cohort' as const, id })), { scope: 'device', id: deviceId }];
}

/**
 * Every stored rollup row a window starting at `startMs` adds to: its hour for the fleet, each cohort and
 * the device, and its minute for the fleet and each cohort. `scope` is the stored value (`storedScope`),
 * `bucket` the bucket's start.
 */
export function rollupBuckets(
  deviceId: string,
  cohorts: readonly string[],
  startMs: number,
): { scope: string; id: string; bucket: number }[] {
  const hour = hourOf(startMs);
  const minute = minuteOf(startMs);
  return [
    ...rollupKeys(deviceId, cohorts).map((k) => ({ scope: k.scope as string, id: k.id, bucket: hour })),
    { scope: storedScope('fleet', 'minute'), id: FLEET_ID, bucket: minute },
    ...cohorts.map((id) => ({ scope: storedScope('cohort', 'minute'), id, bucket: minute })),
  ];
}

/** Rollup counts waiting to be added to one stored rollup row (a store's batch accumulator). */
export interface PendingRollup {
  /** The stored scope value (`storedScope`). */
  scope: string;
  id: string;
  hour: number;
  model: string;
  counts: RollupCounts;
}
