// WebhookStore on SQLite (tables `webhooks`, `webhook_deliveries`, migration 6).
import { SQLITE_COLUMNS, type Db } from './db.ts';
import type { Row } from '../../rows/column-codec.ts';
import {
  DELIVERIES_KEPT,
  type DeliveryRecord,
  type Webhook,
  type WebhookStore,
  type WebhookWithSecret,
} from '../../events/webhook-store.ts';
import { toDelivery, toWebhookWithSecret, WEBHOOK_STATE_COLUMNS, withoutSecret } from '../../events/webhook-row.ts';

const hook = (r: Row): WebhookWithSecret => toWebhookWithSecret(r, SQLITE_COLUMNS);

export class SqliteWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async create(h: WebhookWithSecret): Promise<Webhook> {
    this.db
      .prepare(
        `INSERT INTO webhooks (id, url, events, secret, description, enabled, disabled_reason, disabled_at, cursor, failures, created_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        h.id,
        h.url,
        JSON.stringify(h.events),
        h.secret,
        h.description,
        h.enabled ? 1 : 0,
        h.disabledReason,
        h.disabledAt,
        h.cursor,
        h.failures,
        h.createdAt,
        h.createdBy,
      );
    return withoutSecret(h);
  }

  async get(id: string): Promise<WebhookWithSecret | null> {
    const r = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
    return r ? hook(r) : null;
  }

  async list(): Promise<Webhook[]> {
    return (this.db.prepare('SELECT * FROM webhooks ORDER BY created_at, id').all() as Row[]).map((r) => withoutSecret(hook(r)));
  }

  async remove(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM webhook_deliveries WHERE hook_id = ?').run(id);
      return this.db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
    })();
  }

  async update(
    id: string,
    patch: Partial<Pick<Webhook, 'enabled' | 'disabledReason' | 'disabledAt' | 'cursor' | 'failures'>>,
  ): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => k in WEBHOOK_STATE_COLUMNS) as (keyof typeof patch)[];
    if (keys.length === 0) return !!(await this.get(id));
    const values = keys.map((k) => (k === 'enabled' ? (patch.enabled ? 1 : 0) : (patch[k] ?? null)));
    return (
      this.db
        .prepare(`UPDATE webhooks SET ${keys.map((k) => `${WEBHOOK_STATE_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`)
        .run(...values, id).changes > 0
    );
  }

  async addDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO webhook_deliveries (hook_id, event_id, seq, type, attempt, ok, status, error, latency_ms, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(d.hookId, d.eventId, d.sequence, d.type, d.attempt, d.ok ? 1 : 0, d.status, d.error, d.latencyMs, d.at);
      // Ids are shared by every hook: prune below this hook's KEPT-th newest row, not by arithmetic on ids.
      this.db
        .prepare(
          `DELETE FROM webhook_deliveries WHERE hook_id = @hook AND id < (
        SELECT id FROM webhook_deliveries WHERE hook_id = @hook ORDER BY id DESC LIMIT 1 OFFSET @offset)`,
        )
        .run({ hook: d.hookId, offset: DELIVERIES_KEPT - 1 });
    })();
  }

  async deliveries(hookId: string, limit = 50): Promise<DeliveryRecord[]> {
    const rows = this.db.prepare('SELECT * FROM webhook_deliveries WHERE hook_id = ? ORDER BY id DESC LIMIT ?').all(hookId, limit) as Row[];
    return rows.map((r) => toDelivery(r, SQLITE_COLUMNS));
  }
}
