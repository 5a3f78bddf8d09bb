// Checks one incoming window before it is stored: refuses what cannot be summed, keeps only features the reference can judge.
import { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { isValidHistogram } from './histogram.ts';
import type { ModelReference } from './model-reference.ts';

/** Why a whole window was refused (it is still acknowledged: resending would not make it valid). */
export type WindowRejectReason =
  'invalid_schema' | 'invalid_device' | 'invalid_cohort' | 'invalid_time' | 'expired' | 'invalid_histogram' | 'inconsistent_counts';

/** Why one feature of an accepted window was left out of rollups and drift. */
export type FeatureIssueReason = 'no_reference' | 'unknown_feature' | 'bin_count_mismatch';

export type WindowCheck =
  | { ok: true; window: TelemetryWindow; start: number; end: number; issues: { feature: string; reason: FeatureIssueReason }[] }
  | { ok: false; reason: WindowRejectReason; detail: string };

export interface CheckContext {
  reference: ModelReference | undefined;
  /** Windows starting before this (ms) are past retention. */
  notBefore: number;
  /** Windows starting after this (ms) come from a clock far ahead. */
  notAfter: number;
  /** Run the full wire schema too (for windows that did not come through the MQTT decoder). */
  validateSchema: boolean;
}

/** [WIRE-1.2] */
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Cohort tags: 1-128 characters, no control characters (tags are free text in the device registry). */
const COHORT = /^[^\u0000-\u001f\u007f]{1,128}$/;
export const isValidDeviceId = (s: string): boolean => DEVICE_ID.test(s);
export const isValidCohort = (s: string): boolean => COHORT.test(s);

const fail = (reason: WindowRejectReason, detail: string): WindowCheck => ({ ok: false, reason, detail });

export function checkWindow(deviceId: string, cohorts: readonly string[], input: TelemetryWindow, ctx: CheckContext): WindowCheck {
  let w = input;
  if (ctx.validateSchema) {
    const r = TelemetryWindow.safeParse(input);
    if (!r.success) return fail('invalid_schema', r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    w = r.data;
  }
  if (!isValidDeviceId(deviceId)) return fail('invalid_device', `device id '${deviceId}' is not valid [WIRE-1.2]`);
  for (const c of cohorts) if (!isValidCohort(c)) return fail('invalid_cohort', `cohort '${c}' is not a valid tag`);
  const start = Date.parse(w.start);
  const end = Date.parse(w.end);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start)
    return fail('invalid_time', `start '${w.start}' and end '${w.end}' are not an interval`);
  if (start > ctx.notAfter) return fail('invalid_time', `start ${w.start} is too far in the future (device clock?)`);
  if (start < ctx.notBefore) return fail('expired', `start ${w.start} is older than the retention period`);
  if (!isValidHistogram(w.latencyMs.hist) || !isValidHistogram(w.confidence))
    return fail('invalid_histogram', 'latency or confidence histogram: need k+1 increasing edges for k counts');
  if (w.errors > w.requests || w.feedback.correct > w.feedback.labelled)
    return fail('inconsistent_counts', 'errors exceed requests, or correct exceeds labelled');
  const bc = w.feedback.byClass;
  if (bc && (bc.labelled.length !== bc.correct.length || bc.correct.some((c, i) => c > bc.labelled[i]!)))
    return fail('inconsistent_counts', 'feedback.byClass: arrays differ in length or correct exceeds labelled');

  const issues: { feature: string; reason: FeatureIssueReason }[] = [];
  const features: Record<string, number[]> = {};
  for (const [name, counts] of Object.entries(w.features)) {
    const profile = ctx.reference?.features.find((f) => f.name === name);
    if (!ctx.reference) issues.push({ feature: name, reason: 'no_reference' });
    else if (!profile) issues.push({ feature: name, reason: 'unknown_feature' });
    else if (profile.frequencies.length !== counts.length) issues.push({ feature: name, reason: 'bin_count_mismatch' });
    else features[name] = counts;
  }
  return { ok: true, window: issues.length ? { ...w, features } : w, start, end, issues };
}
