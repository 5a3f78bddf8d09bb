// How many devices a stage may have notified by now: devices per minute, optionally ramping.

/** The pacing of notifications (see Policy.rate). */
export interface Rate {
  devicesPerMinute: number;
  /** Multiplies the per-minute budget each minute (1: flat). */
  rampFactor: number;
}

const CEILING = 1e12;

/**
 * Cumulative devices that may have been notified `elapsedSec` seconds after the rate window opened
 * (a stage's activation, or the latest resume/advance, so a pause never banks a burst). Minute k's
 * batch of `devicesPerMinute × rampFactor^k` is released at the start of that minute, so the first
 * batch goes out at once. Pure, so a restarted engine paces exactly as the old one would have.
 */
export function notifyAllowance(rate: Rate, elapsedSec: number): number {
  if (elapsedSec < 0) return 0;
  const minutes = Math.floor(elapsedSec / 60);
  if (rate.rampFactor === 1) return Math.floor(Math.min(CEILING, rate.devicesPerMinute * (minutes + 1)));
  let total = 0;
  let batch = rate.devicesPerMinute;
  for (let k = 0; k <= minutes && total < CEILING; k++) {
    total += batch;
    batch *= rate.rampFactor;
  }
  return Math.floor(Math.min(CEILING, total));
}
