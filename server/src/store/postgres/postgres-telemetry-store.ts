// Usage: `const telemetry = await PostgresTelemetryStore.open(pool)` (runs TELEMETRY_PG_MIGRATIONS under 'telemetry_migrations').
// PostgreSQL TelemetryStore, safe with several server processes writing at once (see insertWindows).
import type { Alert } from '../../monitoring/alert.ts';
import type { ModelReference } from '../../monitoring/model-reference.ts';
import {
  addCounts,
  countsOfWindow,
  emptyCounts,
  rollupBuckets,
  storedScope,
  windowModel,
  type PendingRollup,
  type Rollup,
  type RollupCounts,
  type Scope,
} from '../../monitoring/rollup.ts';
import type {
  AlertFilter,
  PruneCut,
  PruneResult,
  RollupQuery,
  StoredWindow,
  TelemetryStore,
  WindowRecord,
} from '../../monitoring/telemetry-store.ts';
import { migrate, withTx, type PgMigration, type Pool, type PoolClient } from './pg-db.ts';

/** Bodies are TEXT JSON as in SQLite (JSONB would refuse a `\u0000` a device put in a feature name). */
export const TELEMETRY_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 1,
    name: 'telemetry',
    sql: `
      CREATE TABLE telemetry_windows (
        device_id TEXT NOT NULL, seq BIGINT NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,
        model TEXT NOT NULL, cohorts TEXT NOT NULL, received_ms BIGINT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
      );
      CREATE INDEX telemetry_windows_start ON telemetry_windows(start_ms);
      CREATE TABLE telemetry_rollups (
        scope TEXT NOT NULL, scope_id TEXT NOT NULL, hour_ms BIGINT NOT NULL, model TEXT NOT NULL,
        windows BIGINT NOT NULL, requests BIGINT NOT NULL, errors BIGINT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (scope, scope_id, hour_ms, model)
      );
      CREATE INDEX telemetry_rollups_hour ON telemetry_rollups(hour_ms);
      CREATE TABLE telemetry_alerts (
        id TEXT PRIMARY KEY, cohort TEXT NOT NULL, model TEXT NOT NULL, state TEXT NOT NULL,
        opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL
      );
      CREATE INDEX telemetry_alerts_state ON telemetry_alerts(state, opened_at);
      CREATE TABLE telemetry_references (model TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
    `,
  },
];

interface RollupRow {
  scope: Scope;
  scope_id: string;
  hour_ms: string;
  model: string;
  body: string;
}

const toRollup = (r: RollupRow): Rollup => ({
  scope: r.scope,
  id: r.scope_id,
  model: r.model,
  hour: Number(r.hour_ms),
  ...(JSON.parse(r.body) as RollupCounts),
});
/** Code-unit order, the same in every process (locks are taken in this order). */
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Deadlock (40P01) or serialization failure (40001): the transaction rolled back whole, so a retry is safe. */
const retryable = (e: unknown) => ['40P01', '40001'].includes((e as { code?: string })?.code ?? '');

/**
 * Telemetry on a migrated pool. Nothing is cached between calls: other server processes write the same
 * rollup rows, so every batch reads the rows it adds to under a row lock.
 */
export class PostgresTelemetryStore implements TelemetryStore {
  readonly kind = 'postgres';

  constructor(private readonly pool: Pool) {}

  /** Migrates the telemetry tables and returns a store on `pool`. */
  static async open(pool: Pool): Promise<PostgresTelemetryStore> {
    await migrate(pool, 'telemetry_migrations', TELEMETRY_PG_MIGRATIONS);
    return new PostgresTelemetryStore(pool);
  }

  async insertWindows(records: readonly WindowRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTx(this.pool, (c) => insertBatch(c, records));
      } catch (e) {
        if (!retryable(e) || attempt >= 5) throw e;
      }
    }
  }

  async rollups(q: RollupQuery): Promise<Rollup[]> {
    const id = q.scope === 'fleet' ? '*' : q.id;
    const { rows } = await this.pool.query<RollupRow>(
      `SELECT scope, scope_id, hour_ms, model, body FROM telemetry_rollups
        WHERE scope = $1 AND scope_id = $2 AND hour_ms >= $3 AND hour_ms < $4 AND ($5::text IS NULL OR model = $5) ORDER BY hour_ms, model COLLATE "C"`,
      [storedScope(q.scope, q.resolution), id, q.from, q.to, q.model ?? null],
    );
    return rows.map((r) => ({ ...toRollup(r), scope: q.scope }));
  }

  async deviceRollups(q: { deviceIds: readonly string[]; model?: string; from: number; to: number }): Promise<Rollup[]> {
    if (q.deviceIds.length === 0) return [];
    // One array parameter holds any number of ids: no chunking needed.
    const { rows } = await this.pool.query<RollupRow>(
      `SELECT scope, scope_id, hour_ms, model, body FROM telemetry_rollups
        WHERE scope = 'device' AND scope_id = ANY($1) AND hour_ms >= $2 AND hour_ms < $3 AND ($4::text IS NULL OR model = $4)`,
      [q.deviceIds, q.from, q.to, q.model ?? null],
    );
    return rows.map(toRollup).sort((a, b) => a.id.localeCompare(b.id) || a.hour - b.hour || a.model.localeCompare(b.model));
  }

  async windows(q: { deviceId: string; from?: number; to?: number; limit?: number }): Promise<StoredWindow[]> {
    const { rows } = await this.pool.query<{ device_id: string; model: string; cohorts: string; received_ms: string; body: string }>(
      'SELECT device_id, model, cohorts, received_ms, body FROM telemetry_windows WHERE device_id = $1 AND start_ms >= $2 AND start_ms < $3 ORDER BY seq DESC LIMIT $4',
      [q.deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 100],
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      model: r.model,
      cohorts: JSON.parse(r.cohorts) as string[],
      receivedAt: Number(r.received_ms),
      window: JSON.parse(r.body),
    }));
  }

  async prune(cut: PruneCut): Promise<PruneResult> {
    const minutes = [storedScope('fleet', 'minute'), storedScope('cohort', 'minute')];
    return withTx(this.pool, async (c) => ({
      windows: (await c.query('DELETE FROM telemetry_windows WHERE start_ms < $1', [cut.windowsBefore])).rowCount ?? 0,
      rollups:
        ((await c.query('DELETE FROM telemetry_rollups WHERE hour_ms < $1', [cut.rollupsBefore])).rowCount ?? 0) +
        (cut.minuteRollupsBefore === undefined
          ? 0
          : ((await c.query('DELETE FROM telemetry_rollups WHERE scope = ANY($1) AND hour_ms < $2', [minutes, cut.minuteRollupsBefore]))
              .rowCount ?? 0)),
      alerts:
        (
          await c.query("DELETE FROM telemetry_alerts WHERE state = 'resolved' AND updated_at < $1", [
            new Date(cut.alertsBefore).toISOString(),
          ])
        ).rowCount ?? 0,
    }));
  }

  async putAlert(a: Alert): Promise<void> {
    await this.pool.query(
      `INSERT INTO telemetry_alerts (id, cohort, model, state, opened_at, updated_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body`,
      [a.id, a.cohort, a.model, a.state, a.openedAt, a.updatedAt, JSON.stringify(a)],
    );
  }

  async getAlert(id: string): Promise<Alert | null> {
    const { rows } = await this.pool.query<{ body: string }>('SELECT body FROM telemetry_alerts WHERE id = $1', [id]);
    return rows[0] ? (JSON.parse(rows[0].body) as Alert) : null;
  }

  async listAlerts(f: AlertFilter = {}): Promise<Alert[]> {
    const { rows } = await this.pool.query<{ body: string }>(
      `SELECT body FROM telemetry_alerts
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR cohort = $2) AND ($3::text IS NULL OR model = $3)
        ORDER BY opened_at DESC, id COLLATE "C" LIMIT $4`,
      [f.state ?? null, f.cohort ?? null, f.model ?? null, f.limit ?? 100],
    );
    return rows.map((r) => JSON.parse(r.body) as Alert);
  }

  async putReference(model: string, ref: ModelReference): Promise<void> {
    await this.pool.query(
      'INSERT INTO telemetry_references (model, body, updated_at) VALUES ($1, $2, $3) ON CONFLICT (model) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
      [model, JSON.stringify(ref), new Date().toISOString()],
    );
  }

  async listReferences(): Promise<{ model: string; reference: ModelReference }[]> {
    const { rows } = await this.pool.query<{ model: string; body: string }>(
      'SELECT model, body FROM telemetry_references ORDER BY model COLLATE "C"',
    );
    return rows.map((r) => ({ model: r.model, reference: JSON.parse(r.body) as ModelReference }));
  }
}

/**
 * One batch in one transaction, correct with other processes ingesting at once:
 * 1. windows go in with ON CONFLICT DO NOTHING, so of two processes storing the same (device, seq) one
 *    inserts it and the other waits for that commit and skips it; only inserted windows are rolled up;
 * 2. each touched rollup row is created empty or locked (INSERT ... ON CONFLICT DO UPDATE ... RETURNING
 *    takes the row lock and returns the committed body), summed in memory, and written back.
 * Both steps take their locks in one global order (sorted keys), so two batches never wait on each
 * other in a cycle; a deadlock the server still reports is retried by the caller.
 */
async function insertBatch(c: PoolClient, records: readonly WindowRecord[]): Promise<boolean[]> {
  const order = records
    .map((_, i) => i)
    .sort((a, b) => byCodeUnit(records[a]!.deviceId, records[b]!.deviceId) || records[a]!.window.seq - records[b]!.window.seq);
  const rows = order.map((i) => {
    const r = records[i]!;
    return [
      r.deviceId,
      r.window.seq,
      Date.parse(r.window.start),
      Date.parse(r.window.end),
      windowModel(r.window),
      JSON.stringify(r.cohorts),
      r.receivedAt,
      JSON.stringify(r.window),
    ] as const;
  });
  const col = (k: number) => rows.map((r) => r[k]);
  const { rows: inserted } = await c.query<{ device_id: string; seq: string }>(
    `INSERT INTO telemetry_windows (device_id, seq, start_ms, end_ms, model, cohorts, received_ms, body)
      SELECT d, s, a, b, m, c, r, w FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[])
        WITH ORDINALITY AS x(d, s, a, b, m, c, r, w, o) ORDER BY o
      ON CONFLICT (device_id, seq) DO NOTHING RETURNING device_id, seq`,
    [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)],
  );
  const fresh = new Set(inserted.map((r) => `${r.device_id}\u0000${r.seq}`));
  // The first copy in the batch is the new one; a later copy of the same key is a duplicate.
  const out = records.map((r) => {
    const key = `${r.deviceId}\u0000${r.window.seq}`;
    return fresh.delete(key);
  });
  const pending = new Map<string, PendingRollup>();
  records.forEach((r, i) => {
    if (!out[i]) return;
    const w = r.window;
    const counts = countsOfWindow(w);
    const model = windowModel(w);
    for (const { scope, id, bucket: hour } of rollupBuckets(r.deviceId, r.cohorts, Date.parse(w.start))) {
      const key = `${scope}\u0000${id}\u0000${hour}\u0000${model}`;
      const p = pending.get(key);
      if (p) addCounts(p.counts, counts);
      else pending.set(key, { scope, id, hour, model, counts: addCounts(emptyCounts(), counts) });
    }
  });
  if (pending.size === 0) return out;
  const keys = [...pending.keys()].sort(byCodeUnit);
  const ps = keys.map((k) => pending.get(k)!);
  const empty = JSON.stringify(emptyCounts());
  const { rows: current } = await c.query<RollupRow>(
    `INSERT INTO telemetry_rollups (scope, scope_id, hour_ms, model, windows, requests, errors, body)
      SELECT s, i, h, m, 0, 0, 0, $5 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS x(s, i, h, m, o) ORDER BY o
      ON CONFLICT (scope, scope_id, hour_ms, model) DO UPDATE SET windows = telemetry_rollups.windows
      RETURNING scope, scope_id, hour_ms, model, body`,
    [ps.map((p) => p.scope), ps.map((p) => p.id), ps.map((p) => p.hour), ps.map((p) => p.model), empty],
  );
  const totals = new Map(
    current.map((r) => [`${r.scope}\u0000${r.scope_id}\u0000${Number(r.hour_ms)}\u0000${r.model}`, JSON.parse(r.body) as RollupCounts]),
  );
  const sums = ps.map((p, i) => addCounts(totals.get(keys[i]!) ?? emptyCounts(), p.counts));
  await c.query(
    `UPDATE telemetry_rollups t SET windows = x.w, requests = x.r, errors = x.e, body = x.b
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[]) AS x(s, i, h, m, w, r, e, b)
      WHERE t.scope = x.s AND t.scope_id = x.i AND t.hour_ms = x.h AND t.model = x.m`,
    [
      ps.map((p) => p.scope),
      ps.map((p) => p.id),
      ps.map((p) => p.hour),
      ps.map((p) => p.model),
      sums.map((s) => s.windows),
      sums.map((s) => s.requests),
      sums.map((s) => s.errors),
      sums.map((s) => JSON.stringify(s)),
    ],
  );
  return out;
}
