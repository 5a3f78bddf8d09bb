// Update control of a rollout (issue 18): when it may notify devices (schedule) and the update policy
// its desired states carry, resolved per device (the time zone comes from a device attribute) [WIRE-2.2.2].
import { isTimeZone, MaintenanceWindow, UPDATE_POLICY_LIMITS, UpdateConditions, type UpdatePolicy } from '@flotilla/firmware-bundler/wire';
import { z } from 'zod';

const zone = z
  .string()
  .max(UPDATE_POLICY_LIMITS.zoneChars)
  .refine(isTimeZone, 'unknown time zone: use an IANA name such as Europe/Berlin or America/New_York');

/**
 * The update policy an operator gives a rollout. `timeZoneAttribute` names the device attribute that
 * holds each device's IANA zone; a device without it (or with a zone this server does not know) uses
 * `timeZone` (default UTC). See docs/update-control.md.
 */
export const RolloutUpdatePolicy = z
  .object({
    windows: z.array(MaintenanceWindow).max(UPDATE_POLICY_LIMITS.windows, `at most ${UPDATE_POLICY_LIMITS.windows} windows`).optional(),
    timeZone: zone.optional(),
    timeZoneAttribute: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'an attribute name: letters, digits, _ . -')
      .optional(),
    urgent: z.boolean().optional(),
    maxLockHoldSec: z.number().int().min(0).max(UPDATE_POLICY_LIMITS.maxLockHoldSec).optional(),
    conditions: UpdateConditions.optional(),
  })
  .strict();
export type RolloutUpdatePolicy = z.infer<typeof RolloutUpdatePolicy>;

const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 time with a zone, e.g. 2026-12-24T22:00:00Z' });

/**
 * When the rollout may notify devices: nobody before `startAt`; after `endAt` nobody new (devices
 * already told finish their update and are judged as usual; devices not told by then leave the rollout).
 */
export const RolloutSchedule = z
  .object({ startAt: instant.optional(), endAt: instant.optional() })
  .strict()
  .refine((s) => !s.startAt || !s.endAt || Date.parse(s.endAt) > Date.parse(s.startAt), {
    message: 'endAt must be after startAt',
    path: ['endAt'],
  });
export type RolloutSchedule = z.infer<typeof RolloutSchedule>;

/** The wire policy for one device: the spec with the device's own zone, or undefined when the spec says nothing. */
export function devicePolicy(
  spec: RolloutUpdatePolicy | undefined,
  attributes: Readonly<Record<string, string>>,
): UpdatePolicy | undefined {
  if (!spec) return undefined;
  const { timeZoneAttribute, timeZone, ...rest } = spec;
  const own = timeZoneAttribute ? attributes[timeZoneAttribute] : undefined;
  const zoneOf = own && isTimeZone(own) ? own : (timeZone ?? 'UTC');
  const policy: UpdatePolicy = { ...rest, ...(rest.windows?.length ? { timeZone: zoneOf } : {}) };
  return Object.keys(policy).length ? policy : undefined;
}

/** Where the schedule puts `nowMs`: before its start, inside, or after its end. */
export function schedulePhase(s: RolloutSchedule | undefined, nowMs: number): 'before' | 'open' | 'ended' {
  if (s?.startAt && nowMs < Date.parse(s.startAt)) return 'before';
  if (s?.endAt && nowMs >= Date.parse(s.endAt)) return 'ended';
  return 'open';
}

const DAY_SETS: Record<string, readonly string[]> = {
  daily: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

/**
 * The CLI's `--window DAYS@HH:MM-HH:MM`: DAYS is `daily`, `weekdays`, `weekends` or days like
 * `mon,wed,fri`; `weekdays@22:00-04:00` runs from each weekday night into the next morning.
 * Only the shape is checked here; the server validates the times and days.
 */
export function parseWindowShorthand(text: string): { days: string[]; start: string; end: string } {
  const m = /^([a-z,]+)@(\d\d:\d\d)-(\d\d:\d\d)$/.exec(text.trim().toLowerCase());
  if (!m) throw new Error(`--window '${text}' is not DAYS@HH:MM-HH:MM (example: weekdays@22:00-04:00 or sat,sun@01:00-05:00)`);
  const days = DAY_SETS[m[1]!] ?? m[1]!.split(',').filter(Boolean);
  return { days: [...days], start: m[2]!, end: m[3]! };
}

/** The CLI's `--require`: `unmetered`, `charging`, `idle`, `battery>=N`, `free>=BYTES`. */
export function parseConditionShorthand(list: readonly string[]): Record<string, boolean | number> {
  const out: Record<string, boolean | number> = {};
  for (const raw of list) {
    const t = raw.trim();
    const n = /^(battery|free)>=(\d+)$/.exec(t);
    if (n) out[n[1] === 'battery' ? 'minBatteryPct' : 'minFreeBytes'] = Number(n[2]);
    else if (['unmetered', 'charging', 'idle'].includes(t)) out[t] = true;
    else throw new Error(`--require '${raw}' is not unmetered, charging, idle, battery>=N or free>=BYTES`);
  }
  return out;
}
