// Scheduled credential rotation (`flotilla server --rotate-every 30d`): every tick, the live devices whose
// credential is older than the period are rotated through the on-demand path (DeviceService.rotate: the
// overlap window, the message to connected devices, the external broker). A fleet enrolled in one day is
// not rotated in one minute: each tick takes at most a share of the fleet sized so that all of it fits in a
// quarter of the period, oldest credential first, so the load (and the reconnects) spread out.
import type { Logger } from '../log/logger.ts';
import type { DeviceStore } from '../store/store.ts';
import { DEFAULT_OVERLAP_MS, type RotationResult } from './device-service.ts';

export interface RotationScheduleOptions {
  /** A credential older than this is rotated. */
  periodMs: number;
  /** How often due credentials are looked for. Default 60 s. */
  tickMs?: number;
  /** The share of the period over which a fleet that is due all at once is spread. Default 0.25. */
  spread?: number;
  store: Pick<DeviceStore, 'credentialsDue' | 'count'>;
  /** The on-demand rotation (DeviceService.rotate with this schedule's actor and overlap). */
  rotate: (ids: string[], overlapMs: number) => Promise<RotationResult>;
  now?: () => number;
  log: Logger;
}

/** The least period: a shorter one rotates faster than devices can reconnect. */
export const MIN_PERIOD_MS = 1000;
/** At most this many devices per tick, whatever the fleet (one store page of DeviceService.rotate). */
const MAX_PER_TICK = 1000;

export class RotationSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  /** The overlap each scheduled rotation gets: a day, or a quarter of a shorter period. */
  readonly overlapMs: number;

  constructor(private readonly o: RotationScheduleOptions) {
    if (!(o.periodMs >= MIN_PERIOD_MS)) throw new Error(`the rotation period must be at least ${MIN_PERIOD_MS} ms`);
    this.overlapMs = Math.min(DEFAULT_OVERLAP_MS, Math.floor(o.periodMs / 4));
  }

  get periodMs(): number {
    return this.o.periodMs;
  }

  /** When a credential issued at `issuedAt` is due (it is rotated at the first tick after, within the spread). */
  nextRotationAt(issuedAt: string): string {
    return new Date(Date.parse(issuedAt) + this.o.periodMs).toISOString();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.tickMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops ticking and waits for a tick under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass: rotates up to this tick's share of the due devices; returns how many were rotated. */
  tick(): Promise<number> {
    // A slow pass (a large external broker) is never overlapped by the next one.
    this.running ??= this.pass()
      .catch((err: Error) => {
        this.o.log.warn('scheduled rotation failed; retried at the next tick', { err: err.message });
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<number> {
    const now = this.o.now?.() ?? Date.now();
    const live = await this.o.store.count({ revoked: false });
    if (live === 0) return 0;
    const tickMs = this.o.tickMs ?? 60_000;
    const share = Math.ceil((live * tickMs) / (this.o.periodMs * (this.o.spread ?? 0.25)));
    const ids = await this.o.store.credentialsDue(
      new Date(now - this.o.periodMs).toISOString(),
      Math.min(MAX_PER_TICK, Math.max(1, share)),
    );
    if (ids.length === 0) return 0;
    const r = await this.o.rotate(ids, this.overlapMs);
    this.o.log.info('scheduled credential rotation', { rotated: r.rotated, notified: r.notified, oldValidUntil: r.oldValidUntil });
    return r.rotated;
  }
}
