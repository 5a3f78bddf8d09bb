// The WebhookStore port: operator-configured hooks, where each hook's delivery stands (its cursor in the
// event log, consecutive failures, enabled or disabled with the reason) and a bounded delivery log per hook.
// Engines: store/sqlite/sqlite-webhook-store.ts, store/postgres/postgres-webhook-store.ts.

export interface Webhook {
  id: string;
  url: string;
  /** Normalised type filters (`rollout.*`, `alert.opened`, `*`). */
  events: string[];
  description: string;
  enabled: boolean;
  /** Why it was disabled (by the dispatcher after repeated failures, or by an operator); null when enabled. */
  disabledReason: string | null;
  disabledAt: string | null;
  /** Sequence of the last event handled (delivered, or skipped as not matching). */
  cursor: number;
  /** Failed attempts since the last success. */
  failures: number;
  createdAt: string;
  createdBy: string;
}

/** A hook with its signing secret: only the dispatcher reads this. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface DeliveryRecord {
  id: number;
  hookId: string;
  /** The event's id, which is also the `webhook-id` header. */
  eventId: string;
  sequence: number;
  type: string;
  /** 1 for the first try of this event, counting up on retries. */
  attempt: number;
  ok: boolean;
  /** HTTP status, or null when no answer came (refused, timed out). */
  status: number | null;
  error: string | null;
  latencyMs: number;
  at: string;
}

/** Delivery log rows kept per hook; older ones are pruned. */
export const DELIVERIES_KEPT = 200;

export interface WebhookStore {
  create(h: WebhookWithSecret): Promise<Webhook>;
  get(id: string): Promise<WebhookWithSecret | null>;
  list(): Promise<Webhook[]>;
  remove(id: string): Promise<boolean>;
  /** Changes the delivery state; false when the hook is unknown. */
  update(id: string, patch: Partial<Pick<Webhook, 'enabled' | 'disabledReason' | 'disabledAt' | 'cursor' | 'failures'>>): Promise<boolean>;
  /** Appends to the hook's delivery log, pruning it to the newest DELIVERIES_KEPT. */
  addDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<void>;
  /** Newest first, at most `limit` (default 50). */
  deliveries(hookId: string, limit?: number): Promise<DeliveryRecord[]>;
}
