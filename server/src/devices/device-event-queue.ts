// Write-behind queue for device timeline events: what devices say arrives one MQTT message at a time, and
// one autocommit per message was a large share of the server's busy time under a fleet's churn. Events
// wait a few milliseconds (or until a batch is full) and are written in one transaction, in arrival order.
//
// What a crash can lose: the events of the last flush period. Nothing was acknowledged for them beyond the
// broker's PUBACK, which is sent when the message arrives, before any write (as it was without the queue),
// and the timeline is a record of what happened, not a state anything is decided from. close() writes all.
import type { DeviceEvent } from '../store/entities.ts';
import type { DeviceStore } from '../store/store.ts';

export interface DeviceEventQueueOptions {
  store: Pick<DeviceStore, 'addEvents'>;
  /** Told when a flush fails (the events stay queued and go with the next flush). */
  onError?: (err: unknown) => void;
  /** Longest an event waits, ms. Default 20. */
  flushMs?: number;
  /** Events that flush at once. Default 500. */
  batchRows?: number;
  /** Events held while the store keeps failing; beyond this the oldest are dropped (and counted). Default 50,000. */
  maxQueued?: number;
}

type NewEvent = Omit<DeviceEvent, 'id'>;

export class DeviceEventQueue {
  private queued: NewEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Events dropped because the store failed for longer than the queue could hold. */
  dropped = 0;
  /** Flushes that wrote something (for tests and metrics: how much batching happened). */
  flushes = 0;

  constructor(private readonly o: DeviceEventQueueOptions) {}

  /** Queues an event; after close() it is written at once (late writers still lose nothing). */
  add(e: NewEvent): void {
    this.queued.push(e);
    const max = this.o.maxQueued ?? 50_000;
    if (this.queued.length > max) this.dropped += this.queued.splice(0, this.queued.length - max).length;
    if (this.closed || this.queued.length >= (this.o.batchRows ?? 500)) void this.flush().catch(() => undefined);
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.o.flushMs ?? 20);
  }

  /** Events waiting to be written. */
  get size(): number {
    return this.queued.length;
  }

  /** Writes what is queued now, after any flush in progress; one flush at a time keeps the order. Rejects when the write fails (the events stay queued). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const run = this.flushing.then(() => this.writeQueued());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Writes everything queued; events added afterwards are written as they come. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writeQueued(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0, this.o.batchRows ?? 500);
      try {
        await this.o.store.addEvents(batch);
        this.flushes++;
      } catch (err) {
        // Back at the front, in order, for the next flush; the timer makes sure there is one.
        this.queued.unshift(...batch);
        if (!this.closed) this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), Math.max(1000, this.o.flushMs ?? 20));
        this.o.onError?.(err);
        throw err;
      }
    }
  }
}
