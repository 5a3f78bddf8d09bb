// Telemetry windows and samples: aggregate, close on a timer, queue on disk, publish, forget on ack [WIRE-2.5].
import type { Ack, SampleBatch, TelemetryPolicy, TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { ActiveModel } from '../model/active-model.ts';
import type { AgentStorage } from '../storage/agent-storage.ts';
import type { ServerLink } from '../transport/server-link.ts';
import { OutboxQueue } from './outbox-queue.ts';
import { Sampler } from './sampler.ts';
import { WindowAggregator } from './window-aggregator.ts';

/** Telemetry options of createAgent. */
export interface TelemetryOptions {
  /** Window length in seconds until the server's desired state sets one. Default 60. */
  windowSec?: number;
  /** Windows kept on disk while unacknowledged (oldest dropped, and counted, past this). Default 1000. */
  maxQueuedWindows?: number;
  /** Sample batches kept on disk while unacknowledged. Default 100. */
  maxQueuedSamples?: number;
  /** A published message not acknowledged after this many ms is sent again. Default max(10 s, 2 windows). */
  resendAfterMs?: number;
}

type Kind = 'telemetry' | 'samples';

/**
 * Messages published per flush, then a pause: after a long outage the backlog goes out at about
 * 40 messages/s, under the broker's per-device rate (50/s, bursts of 200 [WIRE-1.7]).
 */
const FLUSH_BATCH = 80;
const FLUSH_PAUSE_MS = 2000;

/** Owns the current window, the sampler and both on-disk queues. */
export class TelemetryService {
  private agg: WindowAggregator;
  readonly sampler: Sampler;
  private windowSec: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly sentAt: Record<Kind, Map<number, number>> = { telemetry: new Map(), samples: new Map() };
  private flushing = false;
  private flushAgain = false;
  private paced: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  private constructor(
    private readonly queues: { telemetry: OutboxQueue<TelemetryWindow>; samples: OutboxQueue<SampleBatch> },
    private readonly link: ServerLink | null,
    private readonly model: () => ActiveModel | null,
    private readonly o: TelemetryOptions,
    private readonly now: () => number,
    private readonly onWindow: (w: TelemetryWindow) => void,
  ) {
    this.windowSec = o.windowSec ?? 60;
    this.sampler = new Sampler();
    this.agg = new WindowAggregator(now(), model());
  }

  static async open(
    storage: AgentStorage,
    link: ServerLink | null,
    model: () => ActiveModel | null,
    o: TelemetryOptions,
    now: () => number,
    onWindow: (w: TelemetryWindow) => void,
  ): Promise<TelemetryService> {
    const telemetry = await OutboxQueue.open<TelemetryWindow>(storage, 'windows', { maxItems: o.maxQueuedWindows ?? 1000 });
    const samples = await OutboxQueue.open<SampleBatch & { dropped?: number }>(storage, 'samples', { maxItems: o.maxQueuedSamples ?? 100 });
    const s = new TelemetryService({ telemetry, samples }, link, model, o, now, onWindow);
    s.schedule();
    return s;
  }

  /** The current window (predictions record into it synchronously). */
  get window(): WindowAggregator {
    return this.agg;
  }

  /** Windows waiting for the server's ack. */
  get backlog(): number {
    return this.queues.telemetry.size;
  }

  /** Applies the server's policy [WIRE-2.2]; a new window length starts a new window now. */
  setPolicy(p: TelemetryPolicy): void {
    this.sampler.rate = p.sampleRate;
    this.sampler.budgetBytes = p.sampleBudgetBytes;
    if (p.windowSec !== this.windowSec) {
      this.windowSec = p.windowSec;
      void this.closeWindow();
    }
  }

  /** Closes the current window (queued on disk, then published) and opens the next. */
  closeWindow(): Promise<void> {
    // The swap is synchronous so no prediction lands in a window of another model; numbering is queued.
    const agg = this.agg;
    const end = this.now();
    this.agg = new WindowAggregator(end, this.model());
    this.schedule();
    const run = this.chain.then(async () => {
      const w = await this.queues.telemetry.enqueue((seq, dropped) => agg.close(seq, end, dropped));
      this.onWindow(w);
      const items = this.sampler.drain();
      if (items.length) await this.queues.samples.enqueue((seq) => ({ v: 1, seq, items }));
    });
    this.chain = run.catch(() => undefined);
    return run.then(() => this.flush());
  }

  /** Publishes what is queued and not recently sent. Safe to call at any time. */
  async flush(): Promise<void> {
    if (!this.link?.online || this.closed) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      let budget = FLUSH_BATCH;
      do {
        this.flushAgain = false;
        budget = await this.publishQueued('telemetry', this.queues.telemetry, budget);
        budget = await this.publishQueued('samples', this.queues.samples, budget);
      } while (this.flushAgain && this.link.online && budget > 0);
      if (budget <= 0 && !this.paced && !this.closed) {
        this.paced = setTimeout(() => {
          this.paced = null;
          void this.flush();
        }, FLUSH_PAUSE_MS);
        (this.paced as { unref?: () => void }).unref?.();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** After a reconnect everything unacknowledged goes out again [WIRE-2.5]. */
  onConnection(online: boolean): void {
    if (!online) return;
    this.sentAt.telemetry.clear();
    this.sentAt.samples.clear();
    void this.flush();
  }

  async onAck(ack: Ack): Promise<void> {
    const kind: Kind = ack.kind;
    await this.queues[kind === 'telemetry' ? 'telemetry' : 'samples'].ack(ack.seqs);
    for (const s of ack.seqs) this.sentAt[kind].delete(s);
  }

  /** Closes the last (partial) window so its counts are kept on disk for the next run, then stops. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.paced) clearTimeout(this.paced);
    await this.closeWindow().catch(() => undefined);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Publishes what is due, at most `budget` messages; returns the budget left. */
  private async publishQueued(kind: Kind, queue: OutboxQueue<{ seq: number }>, budget: number): Promise<number> {
    const resend = this.o.resendAfterMs ?? Math.max(10_000, 2 * this.windowSec * 1000);
    for (const seq of [...queue.pending()]) {
      if (!this.link?.online || budget <= 0) return budget;
      const last = this.sentAt[kind].get(seq);
      if (last !== undefined && this.now() - last < resend) continue;
      const msg = await queue.read(seq);
      if (!msg) continue;
      this.sentAt[kind].set(seq, this.now());
      budget--;
      try {
        await this.link.publish(kind, JSON.stringify(msg));
      } catch {
        this.sentAt[kind].delete(seq);
        return budget;
      }
    }
    return budget;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    const due = this.agg.startedAt + this.windowSec * 1000 - this.now();
    this.timer = setTimeout(() => void this.closeWindow().catch(() => undefined), Math.max(0, due));
    (this.timer as { unref?: () => void }).unref?.();
  }
}
