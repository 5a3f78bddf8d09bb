// Device timelines do not pile up: each device keeps its newest 500 events as they arrive (the store's
// bound), and this sweeper deletes events older than the retention age (env FLOTILLA_DEVICE_EVENT_DAYS,
// default 30) on a cadence for the life of the process, a bounded slice per transaction with the event
// loop given back between slices, so a sweep over a large fleet never stalls MQTT or the API.
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import type { DeviceStore } from '../store/store.ts';

/** Rows one slice deletes. */
const SLICE = 1000;

export function deviceEventDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.FLOTILLA_DEVICE_EVENT_DAYS);
  return env.FLOTILLA_DEVICE_EVENT_DAYS && Number.isFinite(n) && n > 0 ? n : 30;
}

export class DeviceEventRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  /** Completed sweeps (a test waits on this to see the cadence). */
  sweeps = 0;

  constructor(private readonly o: { store: Pick<DeviceStore, 'pruneEvents'>; maxAgeMs: number; log: Logger; now?: () => number }) {}

  /** One sweep (joins one in progress); returns the events deleted. */
  sweep(): Promise<number> {
    this.running ??= this.sweepNow().finally(() => {
      this.running = null;
      this.sweeps++;
    });
    return this.running;
  }

  private async sweepNow(): Promise<number> {
    const before = new Date((this.o.now ?? Date.now)() - this.o.maxAgeMs).toISOString();
    let deleted = 0;
    for (;;) {
      const n = await this.o.store.pruneEvents(before, SLICE);
      deleted += n;
      if (n < SLICE) break;
      await nextMacrotask();
    }
    if (deleted > 0) this.o.log.info('device events pruned', { deleted, before });
    return deleted;
  }

  /** Sweeps now and then every `everyMs` (default hourly); a failed sweep is logged and tried again next time. */
  start(everyMs = 3_600_000): void {
    if (this.timer) return;
    const run = () => void this.sweep().catch((e: unknown) => this.o.log.error('device event sweep failed', { err: String(e) }));
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  /** Stops the cadence and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
