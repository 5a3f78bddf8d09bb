// WebhookStore on PostgreSQL (tables `webhooks`, `webhook_deliveries`, metadata migration 6).
import {
  DELIVERIES_KEPT,
  type DeliveryRecord,
  type Webhook,
  type WebhookStore,
  type WebhookWithSecret,
} from '../../events/webhook-store.ts';
import { toDelivery, toWebhookWithSecret, WEBHOOK_STATE_COLUMNS, withoutSecret } from '../../events/webhook-row.ts';
import { onMetadataSchema } from './metadata-schema.ts';
import { withTx, type Pool } from './pg-db.ts';
import { PG_COLUMNS, type Row } from './pg-values.ts';

const hook = (r: Row): WebhookWithSecret => toWebhookWithSecret(r, PG_COLUMNS);

export class PostgresWebhookStore implements WebhookStore {
  private constructor(private readonly pool: Pool) {}

  static open = (pool: Pool): Promise<PostgresWebhookStore> => onMetadataSchema(pool, (p) => new PostgresWebhookStore(p));

  async create(h: WebhookWithSecret): Promise<Webhook> {
    await this.pool.query(
      `INSERT INTO webhooks (id, url, events, secret, description, enabled, disabled_reason, disabled_at, cursor, failures, created_at, created_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        h.id,
        h.url,
        JSON.stringify(h.events),
        h.secret,
        h.description,
        h.enabled,
        h.disabledReason,
        h.disabledAt,
        h.cursor,
        h.failures,
        h.createdAt,
        h.createdBy,
      ],
    );
    return withoutSecret(h);
  }

  async get(id: string): Promise<WebhookWithSecret | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM webhooks WHERE id = $1', [id]);
    return rows[0] ? hook(rows[0]) : null;
  }

  async list(): Promise<Webhook[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM webhooks ORDER BY created_at, id');
    return rows.map((r) => withoutSecret(hook(r)));
  }

  async remove(id: string): Promise<boolean> {
    return withTx(this.pool, async (c) => {
      await c.query('DELETE FROM webhook_deliveries WHERE hook_id = $1', [id]);
      return ((await c.query('DELETE FROM webhooks WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async update(
    id: string,
    patch: Partial<Pick<Webhook, 'enabled' | 'disabledReason' | 'disabledAt' | 'cursor' | 'failures'>>,
  ): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => k in WEBHOOK_STATE_COLUMNS) as (keyof typeof patch)[];
    if (keys.length === 0) return !!(await this.get(id));
    const values = keys.map((k) => patch[k] ?? null);
    const sets = keys.map((k, i) => `${WEBHOOK_STATE_COLUMNS[k]} = $${i + 2}`).join(', ');
    return ((await this.pool.query(`UPDATE webhooks SET ${sets} WHERE id = $1`, [id, ...values])).rowCount ?? 0) > 0;
  }

  async addDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<void> {
    await withTx(this.pool, async (c) => {
      await c.query(
        `INSERT INTO webhook_deliveries (hook_id, event_id, seq, type, attempt, ok, status, error, latency_ms, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [d.hookId, d.eventId, d.sequence, d.type, d.attempt, d.ok, d.status, d.error, d.latencyMs, d.at],
      );
      await c.query(
        `DELETE FROM webhook_deliveries WHERE hook_id = $1 AND id < (
        SELECT id FROM webhook_deliveries WHERE hook_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
        [d.hookId, DELIVERIES_KEPT - 1],
      );
    });
  }

  async deliveries(hookId: string, limit = 50): Promise<DeliveryRecord[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM webhook_deliveries WHERE hook_id = $1 ORDER BY id DESC LIMIT $2', [
      hookId,
      limit,
    ]);
    return rows.map((r) => toDelivery(r, PG_COLUMNS));
  }
}
