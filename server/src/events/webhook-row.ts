// How stored webhook and delivery rows read back. Both store engines (store/sqlite, store/postgres) keep the
// same columns, so the mapping belongs to the events domain; each engine's ColumnCodec says how its driver
// hands over the list of event types, booleans, 64-bit integers and times. The two mappers look alike (a column per
// field) but read different tables; a scan for repeated code will pair them.
import type { ColumnCodec, Row } from '../rows/column-codec.ts';
import type { DeliveryRecord, Webhook, WebhookWithSecret } from './webhook-store.ts';

/** A `webhooks` row, secret included (only the dispatcher reads it). */
export const toWebhookWithSecret = (r: Row, c: ColumnCodec): WebhookWithSecret => ({
  id: r.id as string,
  url: r.url as string,
  events: c.json(r.events),
  secret: r.secret as string,
  description: r.description as string,
  enabled: c.bool(r.enabled),
  disabledReason: r.disabled_reason as string | null,
  disabledAt: c.timeOrNull(r.disabled_at),
  cursor: c.int(r.cursor),
  failures: r.failures as number,
  createdAt: c.time(r.created_at),
  createdBy: r.created_by as string,
});

/** The webhook fields `WebhookStore.update` may set, by column (both engines build their UPDATE from it). */
export const WEBHOOK_STATE_COLUMNS: Readonly<Record<string, string>> = {
  enabled: 'enabled',
  disabledReason: 'disabled_reason',
  disabledAt: 'disabled_at',
  cursor: 'cursor',
  failures: 'failures',
};

/** What every reader but the dispatcher sees of a webhook. */
export const withoutSecret = ({ secret: _secret, ...h }: WebhookWithSecret): Webhook => h;

/** A `webhook_deliveries` row. */
export const toDelivery = (r: Row, c: ColumnCodec): DeliveryRecord => ({
  id: c.int(r.id),
  hookId: r.hook_id as string,
  eventId: r.event_id as string,
  sequence: c.int(r.seq),
  type: r.type as string,
  attempt: r.attempt as number,
  ok: c.bool(r.ok),
  status: r.status as number | null,
  error: r.error as string | null,
  latencyMs: r.latency_ms as number,
  at: c.time(r.at),
});
