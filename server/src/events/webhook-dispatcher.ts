// Delivers the event log to every enabled webhook: per hook strictly in sequence order, at least once
// (the `webhook-id` header is the event id, so a receiver drops a redelivery), retried with capped
// exponential backoff and jitter, each attempt in the hook's delivery log, and the hook disabled with the
// reason after `maxFailures` consecutive failures. A hook's cursor moves only after a 2xx, so a restart
// or a receiver that was down resumes at the first event it has not acknowledged.
import type { Logger } from '../log/logger.ts';
import type { CloudEvent } from './cloud-event.ts';
import { matcher } from './event-filter.ts';
import type { EventLog } from './event-log.ts';
import { sign } from './webhook-signature.ts';
import type { WebhookStore, WebhookWithSecret } from './webhook-store.ts';

export interface DispatchTimings {
  /** Per attempt, ms (default 10 s). */
  timeoutMs: number;
  /** First retry waits about this long, ms; each further one twice as long (default 1 s). */
  backoffMs: number;
  /** No retry waits longer, ms (default 10 min). */
  backoffMaxMs: number;
  /** Consecutive failures that disable a hook (default 15: about an hour of retries with the defaults). */
  maxFailures: number;
  /** How often the log is read for events other processes appended, ms (default 1 s). */
  pollMs: number;
}

export const DEFAULT_TIMINGS: DispatchTimings = {
  timeoutMs: 10_000,
  backoffMs: 1000,
  backoffMaxMs: 600_000,
  maxFailures: 15,
  pollMs: 1000,
};

export interface DispatcherDeps {
  hooks: WebhookStore;
  log: EventLog;
  logger?: Logger;
  timings?: Partial<DispatchTimings>;
  /** Deliveries run only while this resolves true (the 'webhooks' lease when processes share a database). */
  lease?: () => Promise<boolean>;
  random?: () => number;
  /** Sent as `user-agent`. */
  userAgent?: string;
}

const BATCH = 100;

/** Wait before retry `n` (1-based): half the capped exponential delay plus up to half again at random. */
export function backoff(n: number, t: Pick<DispatchTimings, 'backoffMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const d = Math.min(t.backoffMaxMs, t.backoffMs * 2 ** Math.min(n - 1, 40));
  return Math.round(d / 2 + (random() * d) / 2);
}

export class WebhookDispatcher {
  private readonly t: DispatchTimings;
  /** hook id → when its next retry is due (ms); in memory: a restarted server retries at once. */
  private readonly retryAt = new Map<string, number>();
  private readonly abort = new AbortController();
  private wakeUp: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly d: DispatcherDeps) {
    this.t = { ...DEFAULT_TIMINGS, ...d.timings };
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New events or changed hooks: look now instead of at the next poll. */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeUp?.();
    await this.loop;
  }

  /** One pass over every enabled hook (tests and `stop`-free callers may drive it directly). */
  async round(): Promise<void> {
    if (this.d.lease && !(await this.d.lease())) return;
    const hooks = (await this.d.hooks.list()).filter((h) => h.enabled);
    await Promise.all(
      hooks.map(async (h) => {
        // A hook with no failures on record was just enabled again by an operator: no backoff to wait out.
        if (h.failures > 0 && (this.retryAt.get(h.id) ?? 0) > Date.now()) return;
        const full = await this.d.hooks.get(h.id);
        if (full?.enabled) await this.drain(full);
      }),
    );
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      this.pending = false;
      try {
        await this.round();
      } catch (e) {
        this.d.logger?.warn('webhook round failed', { err: String((e as Error)?.message ?? e) });
      }
      if (this.abort.signal.aborted || this.pending) continue;
      const nextRetry = Math.min(...[...this.retryAt.values()].map((at) => at - Date.now()));
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.max(5, Math.min(this.t.pollMs, nextRetry)));
        this.wakeUp = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wakeUp = null;
    }
  }

  /** Delivers this hook's matching events after its cursor until it is caught up or an attempt fails. */
  private async drain(h: WebhookWithSecret): Promise<void> {
    const wants = matcher(h.events);
    let cursor = h.cursor;
    let failures = h.failures;
    for (;;) {
      const page = await this.d.log.after(cursor, BATCH);
      if (page.length === 0) break;
      for (const e of page) {
        if (this.abort.signal.aborted) return this.save(h, cursor);
        if (!wants(e.type)) {
          cursor = e.sequence;
          continue;
        }
        const ok = await this.attempt(h, e, failures + 1);
        // Cut short by shutdown: not the receiver's failure; the next start tries this event again.
        if (!ok.delivered && this.abort.signal.aborted) return this.save(h, cursor);
        if (!ok.delivered) {
          failures++;
          await this.d.hooks.update(h.id, { cursor, failures });
          if (failures >= this.t.maxFailures) {
            const reason = `disabled after ${failures} consecutive failed deliveries; last: ${ok.error} (event ${e.sequence} ${e.type})`;
            await this.d.hooks.update(h.id, { enabled: false, disabledReason: reason, disabledAt: new Date().toISOString() });
            this.retryAt.delete(h.id);
            this.d.logger?.warn('webhook disabled', { hook: h.id, url: h.url, reason });
          } else {
            this.retryAt.set(h.id, Date.now() + backoff(failures, this.t, this.d.random));
          }
          return;
        }
        cursor = e.sequence;
        failures = 0;
        this.retryAt.delete(h.id);
        await this.d.hooks.update(h.id, { cursor, failures });
      }
      if (page.length < BATCH) break;
    }
    await this.save(h, cursor);
  }

  private async save(h: WebhookWithSecret, cursor: number): Promise<void> {
    if (cursor !== h.cursor) await this.d.hooks.update(h.id, { cursor });
  }

  /** One POST; records it in the delivery log. */
  private async attempt(h: WebhookWithSecret, e: CloudEvent, attempt: number): Promise<{ delivered: boolean; error: string }> {
    const body = JSON.stringify(e);
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': this.d.userAgent ?? 'flotilla-webhooks',
      'webhook-id': e.id,
      'webhook-timestamp': String(ts),
      'webhook-signature': sign(h.secret, e.id, ts, body),
    };
    const t0 = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      // No redirects: a hook posts where the admin said, never where an answer points.
      const res = await fetch(h.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.t.timeoutMs), this.abort.signal]),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (status < 200 || status > 299) error = `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
    } catch (err) {
      const x = err as Error & { cause?: { code?: string; message?: string } };
      error = x.name === 'TimeoutError' ? `no answer within ${this.t.timeoutMs} ms` : (x.cause?.code ?? x.cause?.message ?? x.message);
    }
    const latencyMs = Math.round(performance.now() - t0);
    if (this.abort.signal.aborted && status === null) return { delivered: false, error: 'server stopping' };
    await this.d.hooks.addDelivery({
      hookId: h.id,
      eventId: e.id,
      sequence: e.sequence,
      type: e.type,
      attempt,
      ok: error === null,
      status,
      error,
      latencyMs,
      at: new Date().toISOString(),
    });
    return { delivered: error === null, error: error ?? '' };
  }
}
