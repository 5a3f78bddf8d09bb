// Alert webhooks: POST JSON to each target with a timeout and bounded retries, never blocking ingestion.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import type { AlertChange, AlertChangeType } from './alert.ts';

/** Where to send alert changes. */
export interface WebhookTarget {
  url: string;
  /** When set, each request carries `x-flotilla-signature: sha256=<HMAC-SHA256 of the body, hex>`. */
  secret?: string;
  /** Per attempt, ms (default 5000). */
  timeoutMs?: number;
  /** Attempts after the first, on network errors, timeouts, 429 and 5xx (default 3). */
  retries?: number;
  /** Wait before retry i is backoffMs·2^i, ms (default 500). */
  backoffMs?: number;
  /** Which changes to send (default raised, escalated, resolved). */
  events?: AlertChangeType[];
}

export interface WebhookStats {
  delivered: number;
  failed: number;
  /** Changes not sent because `maxInFlight` deliveries were already running. */
  dropped: number;
}

/** The JSON body of every webhook call. */
export interface WebhookPayload {
  type: `alert.${AlertChangeType}`;
  delivery: string;
  sentAt: string;
  alert: AlertChange['alert'];
}

const DEFAULT_EVENTS: AlertChangeType[] = ['raised', 'escalated', 'resolved'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WebhookNotifier {
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: WebhookStats = { delivered: 0, failed: 0, dropped: 0 };

  /** @param maxInFlight deliveries running at once before new ones are dropped (default 1000) */
  constructor(
    private readonly targets: readonly WebhookTarget[],
    private readonly log?: Logger,
    private readonly maxInFlight = 1000,
  ) {}

  /** Starts delivering `change` to every target that wants it; returns at once. */
  notify(change: AlertChange): void {
    for (const t of this.targets) {
      if (!(t.events ?? DEFAULT_EVENTS).includes(change.type)) continue;
      if (this.inFlight.size >= this.maxInFlight) {
        this.stats.dropped++;
        continue;
      }
      const p = this.deliver(t, change).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(t: WebhookTarget, change: AlertChange): Promise<void> {
    const payload: WebhookPayload = {
      type: `alert.${change.type}`,
      delivery: randomUUID(),
      sentAt: new Date().toISOString(),
      alert: change.alert,
    };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-flotilla-event': payload.type,
      'x-flotilla-delivery': payload.delivery,
    };
    if (t.secret) headers['x-flotilla-signature'] = `sha256=${createHmac('sha256', t.secret).update(body).digest('hex')}`;
    const retries = t.retries ?? 3;
    let last = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep((t.backoffMs ?? 500) * 2 ** (attempt - 1));
      try {
        const res = await fetch(t.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(t.timeoutMs ?? 5000) });
        await res.body?.cancel();
        if (res.ok) {
          this.stats.delivered++;
          return;
        }
        last = `HTTP ${res.status}`;
        // Other 4xx answers will not change on a retry: the receiver refuses this payload.
        if (res.status < 500 && res.status !== 429) break;
      } catch (e) {
        last = (e as Error).name === 'TimeoutError' ? `timed out after ${t.timeoutMs ?? 5000} ms` : String((e as Error).message ?? e);
      }
    }
    this.stats.failed++;
    this.log?.warn('alert webhook failed', { url: t.url, type: payload.type, alert: change.alert.id, error: last });
  }
}
