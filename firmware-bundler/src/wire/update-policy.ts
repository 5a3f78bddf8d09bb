// Update control [WIRE-2.2.2]: the update policy a desired state carries (maintenance windows in the
// device's time zone, urgency, the longest an app's update lock may hold, device conditions) and the
// pure, DST-correct window arithmetic both the server (validation) and the agent (activation) use.
import { z } from 'zod';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Most windows one policy may list, and the longest lock hold an operator may allow (7 days). */
export const UPDATE_POLICY_LIMITS = Object.freeze({ windows: 32, maxLockHoldSec: 7 * 86_400, zoneChars: 64 });

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const hhmm = z.string().regex(HHMM, 'a time is HH:MM, 00:00 to 23:59');

/** Whether `zone` is an IANA time zone this runtime knows (Intl throws a RangeError otherwise). */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > UPDATE_POLICY_LIMITS.zoneChars) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A recurring maintenance window, in local wall-clock time of the device's zone. `end` before `start`
 * crosses midnight (`22:00`–`04:00` on `mon` is Monday night into Tuesday morning); `start` equal to
 * `end` is refused as ambiguous (use all seven days with `00:00`–`23:59` for "always").
 */
export const MaintenanceWindow = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, 'name at least one day').max(7),
    start: hhmm,
    end: hhmm,
  })
  .refine((w) => w.start !== w.end, { message: 'start and end are equal: a window needs a length', path: ['end'] });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

/**
 * Conditions the agent checks with what the host app (or the OS) reports. `unmetered` and
 * `minFreeBytes` gate the download; `charging`, `minBatteryPct` and `idle` gate the download and the
 * activation (swapping a model costs a load and a probe).
 */
export const UpdateConditions = z
  .object({
    unmetered: z.boolean().optional(),
    charging: z.boolean().optional(),
    minBatteryPct: z.number().min(0).max(100).optional(),
    idle: z.boolean().optional(),
    minFreeBytes: z.number().int().nonnegative().optional(),
  })
  .strict();
export type UpdateConditions = z.infer<typeof UpdateConditions>;

/**
 * The update policy of a desired state, with the zone already resolved by the server from the device's
 * attribute. No `windows`: activate at once. `urgent` activates outside the windows (never past a held
 * lock before `maxLockHoldSec`, and never past unmet conditions).
 */
export const UpdatePolicy = z
  .object({
    windows: z.array(MaintenanceWindow).max(UPDATE_POLICY_LIMITS.windows).optional(),
    timeZone: z.string().refine(isTimeZone, 'not an IANA time zone this runtime knows (example: Europe/Berlin)').optional(),
    urgent: z.boolean().optional(),
    maxLockHoldSec: z.number().int().min(0).max(UPDATE_POLICY_LIMITS.maxLockHoldSec).optional(),
    conditions: UpdateConditions.optional(),
  })
  .strict();
export type UpdatePolicy = z.infer<typeof UpdatePolicy>;

/** Lock hold allowed when the policy names none: an hour, so a stuck app cannot pin a model forever. */
export const DEFAULT_MAX_LOCK_HOLD_SEC = 3600;

/** Why an agent waits [WIRE-2.4.2]: the rollout status counts devices by these. */
export const WAIT_KINDS = ['window', 'lock', 'condition', 'network'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    if (formatters.size > 256) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** Local wall-clock time at `ms` in `zone`. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
  second: number;
}

/** The wall clock in `zone` at instant `ms` (Intl knows every offset and DST rule). */
export function localTime(ms: number, zone = 'UTC'): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as Weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
  };
}

const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
const previousDay = (d: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7]!;

/** Whether `w` is open at local time `t`: a window crossing midnight belongs to the day it starts on. */
export function windowOpenAt(w: MaintenanceWindow, t: Pick<LocalTime, 'weekday' | 'minute'>): boolean {
  const s = toMinutes(w.start);
  const e = toMinutes(w.end);
  if (s < e) return w.days.includes(t.weekday) && t.minute >= s && t.minute < e;
  return (w.days.includes(t.weekday) && t.minute >= s) || (w.days.includes(previousDay(t.weekday)) && t.minute < e);
}

/**
 * Whether the policy's windows are open at instant `ms`: true without windows. Local wall-clock time
 * decides, so a window follows DST: on a spring-forward night a window inside the skipped hour does not
 * open, and on a fall-back night an hour-long window at 01:00 stays open for both 01:00 hours.
 */
export function windowsOpen(policy: Pick<UpdatePolicy, 'windows' | 'timeZone'> | undefined, ms: number): boolean {
  if (!policy?.windows?.length) return true;
  const t = localTime(ms, policy.timeZone ?? 'UTC');
  return policy.windows.some((w) => windowOpenAt(w, t));
}

/** The instant (ms) at which the wall clock of `zone` reads `minute` minutes into the given local date, or null if it never does (DST gap). */
function instantOf(zone: string, y: number, mo: number, d: number, minute: number): number | null {
  const wall = Date.UTC(y, mo - 1, d, Math.floor(minute / 60), minute % 60);
  let guess = wall;
  // Two rounds of "wall time minus the offset there" settle on the right offset, DST changes included.
  for (let i = 0; i < 3; i++) {
    const t = localTime(guess, zone);
    const seen = Date.UTC(t.year, t.month - 1, t.day, Math.floor(t.minute / 60), t.minute % 60, t.second);
    guess += wall - seen;
  }
  const t = localTime(guess, zone);
  return t.year === y && t.month === mo && t.day === d && t.minute === minute ? guess : null;
}

/**
 * When the windows next open after `ms` (ms since the epoch), or null when there are no windows or
 * none opens within eight days (never, for a policy that names real days). For status reports
 * ("waiting for the window at …"); the decision itself is {@link windowsOpen}.
 */
export function nextWindowOpen(policy: Pick<UpdatePolicy, 'windows' | 'timeZone'> | undefined, ms: number): number | null {
  if (!policy?.windows?.length) return null;
  const zone = policy.timeZone ?? 'UTC';
  let best: number | null = null;
  for (let day = 0; day <= 8; day++) {
    const t = localTime(ms + day * 86_400_000, zone);
    for (const w of policy.windows) {
      if (!w.days.includes(t.weekday)) continue;
      const at = instantOf(zone, t.year, t.month, t.day, toMinutes(w.start));
      if (at !== null && at > ms && (best === null || at < best)) best = at;
    }
  }
  return best;
}
