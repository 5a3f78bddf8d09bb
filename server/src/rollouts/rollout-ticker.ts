// Drives a RolloutEngine on a timer: one tick at a time, never overlapping, errors reported, not thrown.
import type { RolloutEngine, TickReport } from './rollout-engine.ts';

export interface RolloutTicker {
  /** Stops the timer and waits for a tick in flight. */
  stop(): Promise<void>;
}

export interface TickerOptions {
  intervalMs?: number;
  onReport?: (r: TickReport) => void;
  onError?: (e: unknown) => void;
  /**
   * Asked before each tick; the tick runs only when it resolves true. With several server processes on
   * one database this takes or renews the 'rollouts' lease (a TTL of about three intervals), so one
   * process ticks and another takes over when it dies.
   */
  lease?: () => Promise<boolean>;
}

/**
 * Ticks every `intervalMs` (default 5000: bake times and rates are in seconds and minutes, so
 * five seconds late is never late). A rollout that failed its step is reported through `onReport`
 * and retried on the next tick; the timer does not keep the process alive.
 */
export function startRolloutTicker(engine: Pick<RolloutEngine, 'tick'>, opts: TickerOptions = {}): RolloutTicker {
  let inFlight: Promise<void> | null = null;
  const { lease } = opts;
  const timer = setInterval(() => {
    if (inFlight) return;
    const ticked = lease ? lease().then((mine) => (mine ? engine.tick() : null)) : engine.tick();
    inFlight = ticked
      .then(
        (r) => {
          if (r) opts.onReport?.(r);
        },
        (e) => opts.onError?.(e),
      )
      .finally(() => {
        inFlight = null;
      });
  }, opts.intervalMs ?? 5000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
