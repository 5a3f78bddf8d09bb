// Field samples do not pile up: a sweeper deletes those received longer ago than the retention age, then the
// oldest beyond the byte budget (env FLOTILLA_SAMPLE_RETENTION_DAYS, default 30; FLOTILLA_SAMPLE_RETENTION_BYTES,
// default 2 GiB). Retraining reads the newest samples, so the oldest are the ones to lose.
import type { Logger } from '../log/logger.ts';
import type { FieldSampleStore } from './field-sample-store.ts';

export interface RetentionLimits {
  maxAgeMs: number;
  maxBytes: number;
}

const positive = (v: string | undefined, fallback: number) => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
};

export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionLimits {
  return {
    maxAgeMs: positive(env.FLOTILLA_SAMPLE_RETENTION_DAYS, 30) * 86_400_000,
    maxBytes: positive(env.FLOTILLA_SAMPLE_RETENTION_BYTES, 2 * 1024 ** 3),
  };
}

export class SampleRetention {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: { samples: FieldSampleStore; limits: RetentionLimits; log: Logger; now?: () => number }) {}

  /** One sweep; returns rows deleted. */
  async sweep(): Promise<number> {
    const now = (this.o.now ?? Date.now)();
    const deleted = await this.o.samples.prune({ receivedBefore: now - this.o.limits.maxAgeMs, maxBytes: this.o.limits.maxBytes });
    if (deleted > 0) this.o.log.info('field samples pruned', { deleted, ...this.o.limits });
    return deleted;
  }

  /** Sweeps now and then every `everyMs` (default 10 min); a failed sweep is logged and tried again next time. */
  start(everyMs = 600_000): void {
    const run = () => void this.sweep().catch((e: unknown) => this.o.log.error('field sample sweep failed', { err: String(e) }));
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
