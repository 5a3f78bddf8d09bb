// The server's deadline on a device's first word after notification (issue 16, item 9): a member told of the
// bundle that has reported nothing since (stuck, its storage failing before it could say so, or its report
// lost) is marked `stalled`, as if it had reported the stall itself, so the rollout shows it apart. Judged on
// the rows each step loads anyway: no query of its own, whatever the rollout's size.
import type { RolloutStep } from './rollout-step.ts';

/** Default of the engine's `silentSec`: fifteen minutes after notification without a status event. */
export const DEFAULT_SILENT_SEC = 900;

/** Devices listed in the rollout event a sweep records (the count covers them all). */
const LISTED = 20;

/**
 * Marks `stalled` every member of `step`'s rollout still `notified` (no status event since) `silentSec` after
 * entering that state, with a timeline entry saying why, and records one `devices_silent` rollout event when
 * any was. The device's next status event moves it on (device-state.ts), which clears the stall. Returns how many.
 */
export function markSilentMembers(step: RolloutStep, silentSec: number, actor: string): number {
  const cutoff = step.nowMs - silentSec * 1000;
  const silent = step.rows.filter((row) => row.state === 'notified' && Date.parse(row.updatedAt) <= cutoff);
  for (const row of silent) {
    step.device(row, 'stalled', 'silent', {
      reason: `no status event ${silentSec}s after it was notified (device stuck, offline, or its report lost)`,
      since: row.updatedAt,
      source: 'server',
    });
  }
  if (silent.length > 0) {
    step.note('devices_silent', actor, `${silent.length} device(s) sent no status event ${silentSec}s after notification: marked stalled`, {
      count: silent.length,
      devices: silent.slice(0, LISTED).map((r) => r.deviceId),
      silentSec,
    });
  }
  return silent.length;
}
