// Drives a RolloutEngine on a timer: one tick at a time, never overlapping, errors reported, not thrown.
import type { RolloutEngine, TickReport } from './rollout-engine.ts';

export interface RolloutTicker {
  /** Stops the timer and waits for a tick in flight. */
  stop(): Promise<void>;
}

/**
 * Ticks every `intervalMs` (default 5000: bake times and rates are in seconds and minutes, so
 * five seconds late is never late). A rollout that failed its step is reported through `onReport`
 * and retried on the next tick; the timer does not keep the process alive.
 */
export function startRolloutTicker(engine: Pick<RolloutEngine, 'tick'>, opts: { intervalMs?: number; onReport?: (r: TickReport) => void; onError?: (e: unknown) => void } = {}): RolloutTicker {
  let inFlight: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = engine.tick()
      .then((r) => opts.onReport?.(r), (e) => opts.onError?.(e))
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
