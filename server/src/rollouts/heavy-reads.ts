// Reads that walk the whole fleet (target previews): ten parallel previews of 50k devices once froze the
// server for 20 s. Identical reads in flight share one result, at most a few distinct ones run at once,
// a bounded number wait, and the rest are refused as busy rather than queued without end.
import { RolloutError } from './rollout-error.ts';

export class HeavyReads {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly maxConcurrent = 2,
    private readonly maxWaiting = 16,
  ) {}

  /** Runs `work`, or joins the run of the same `key` already in flight. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const same = this.inflight.get(key);
    if (same) return same as Promise<T>;
    if (this.running >= this.maxConcurrent && this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new RolloutError(
          'ROLLOUT_BUSY',
          `${this.maxConcurrent + this.maxWaiting} fleet-wide reads are already running or waiting; try again in a few seconds`,
        ),
      );
    }
    const p = this.slot()
      .then(async () => {
        try {
          return await work();
        } finally {
          this.running--;
          this.waiting.shift()?.();
        }
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private slot(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running++;
        resolve();
      }),
    );
  }
}
