// SqliteTelemetryStore: telemetry in SQLite (better-sqlite3), tables from migration 'telemetry' in store/sqlite/migrations.ts.
import type { Db } from './db.ts';
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

interface RollupRow {
  scope: Scope;
  scope_id: string;
  hour_ms: number;
  model: string;
  body: string;
}

interface WindowRow {
  device_id: string;
  model: string;
  cohorts: string;
  received_ms: number;
  body: string;
}

/** Rollup rows kept parsed in memory (most recently written); about 2 KB each. */
const ROLLUP_CACHE_ROWS = 20_000;

/**
 * Telemetry on an already-opened, migrated database handle (see `openDb`). It must be the only writer of
 * the telemetry tables: it keeps recently written rollup rows parsed in memory, so adding a window to
 * its hour does not read and parse the row back each time.
 */
export class SqliteTelemetryStore implements TelemetryStore {
  readonly kind = 'sqlite';
  private readonly cache = new Map<string, RollupCounts>();
  private readonly insertWindow;
  private readonly getRollup;
  private readonly putRollup;
  private readonly insertTx;

  constructor(private readonly db: Db) {
    this.insertWindow = db.prepare(
      // ON CONFLICT, not OR IGNORE: only the (device, seq) key may be skipped; any other violation must fail the batch.
      'INSERT INTO telemetry_windows (device_id, seq, start_ms, end_ms, model, cohorts, received_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING',
    );
    this.getRollup = db.prepare('SELECT body FROM telemetry_rollups WHERE scope = ? AND scope_id = ? AND hour_ms = ? AND model = ?');
    this.putRollup = db.prepare(
      `INSERT INTO telemetry_rollups (scope, scope_id, hour_ms, model, windows, requests, errors, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, scope_id, hour_ms, model) DO UPDATE SET windows = excluded.windows, requests = excluded.requests, errors = excluded.errors, body = excluded.body`,
    );
    this.insertTx = db.transaction((records: readonly WindowRecord[]) => this.insertBatch(records));
  }

  private insertBatch(records: readonly WindowRecord[]): boolean[] {
    // Rollups are summed in memory first, so a batch touches each (scope, hour, model) row once.
    const pending = new Map<string, PendingRollup>();
    const fresh = records.map((r) => {
      const w = r.window;
      const start = Date.parse(w.start);
      const model = windowModel(w);
      const info = this.insertWindow.run(
        r.deviceId,
        w.seq,
        start,
        Date.parse(w.end),
        model,
        JSON.stringify(r.cohorts),
        r.receivedAt,
        JSON.stringify(w),
      );
      if (info.changes !== 1) return false;
      const counts = countsOfWindow(w);
      // The first bucket this window opens takes `counts` itself as its sum (no copy); later ones copy it.
      let adopted = false;
      for (const { scope, id, bucket: hour } of rollupBuckets(r.deviceId, r.cohorts, start)) {
        const key = `${scope}\u0000${id}\u0000${hour}\u0000${model}`;
        const p = pending.get(key);
        if (p) addCounts(p.counts, counts);
        else {
          pending.set(key, { scope, id, hour, model, counts: adopted ? addCounts(emptyCounts(), counts) : counts });
          adopted = true;
        }
      }
      return true;
    });
    for (const [key, p] of pending) {
      let total = this.cache.get(key);
      if (total) {
        this.cache.delete(key);
        addCounts(total, p.counts);
      } else {
        const row = this.getRollup.get(p.scope, p.id, p.hour, p.model) as { body: string } | undefined;
        total = row ? addCounts(JSON.parse(row.body) as RollupCounts, p.counts) : p.counts;
      }
      this.putRollup.run(p.scope, p.id, p.hour, p.model, total.windows, total.requests, total.errors, JSON.stringify(total));
      this.cache.set(key, total);
    }
    // Map order is insertion order and hits are re-inserted, so the first keys are the least recent.
    for (const key of this.cache.keys()) {
      if (this.cache.size <= ROLLUP_CACHE_ROWS) break;
      this.cache.delete(key);
    }
    return fresh;
  }

  async insertWindows(records: readonly WindowRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    try {
      return this.insertTx(records);
    } catch (e) {
      // The transaction rolled back, but cached rows may already hold this batch's counts.
      this.cache.clear();
      throw e;
    }
  }

  async rollups(q: RollupQuery): Promise<Rollup[]> {
    const id = q.scope === 'fleet' ? '*' : q.id;
    const scope = storedScope(q.scope, q.resolution);
    const rows = (
      q.model
        ? this.db
            .prepare(
              'SELECT * FROM telemetry_rollups WHERE scope = ? AND scope_id = ? AND hour_ms >= ? AND hour_ms < ? AND model = ? ORDER BY hour_ms, model',
            )
            .all(scope, id, q.from, q.to, q.model)
        : this.db
            .prepare(
              'SELECT * FROM telemetry_rollups WHERE scope = ? AND scope_id = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms, model',
            )
            .all(scope, id, q.from, q.to)
    ) as RollupRow[];
    return rows.map((r) => ({ scope: q.scope, id: r.scope_id, model: r.model, hour: r.hour_ms, ...(JSON.parse(r.body) as RollupCounts) }));
  }

  async deviceRollups(q: { deviceIds: readonly string[]; model?: string; from: number; to: number }): Promise<Rollup[]> {
    const out: Rollup[] = [];
    // Chunks keep each statement well under SQLite's limit on bound parameters.
    for (let i = 0; i < q.deviceIds.length; i += 500) {
      const ids = q.deviceIds.slice(i, i + 500);
      const sql = `SELECT * FROM telemetry_rollups WHERE scope = 'device' AND scope_id IN (${ids.map(() => '?').join(',')}) AND hour_ms >= ? AND hour_ms < ?${q.model ? ' AND model = ?' : ''}`;
      const rows = this.db.prepare(sql).all(...ids, q.from, q.to, ...(q.model ? [q.model] : [])) as RollupRow[];
      for (const r of rows)
        out.push({ scope: r.scope, id: r.scope_id, model: r.model, hour: r.hour_ms, ...(JSON.parse(r.body) as RollupCounts) });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id) || a.hour - b.hour || a.model.localeCompare(b.model));
  }

  async windows(q: { deviceId: string; from?: number; to?: number; limit?: number }): Promise<StoredWindow[]> {
    const rows = this.db
      // The (device_id, seq) key serves this: a device's seqs grow with time, so seq order is time order.
      .prepare(
        'SELECT device_id, model, cohorts, received_ms, body FROM telemetry_windows WHERE device_id = ? AND start_ms >= ? AND start_ms < ? ORDER BY seq DESC LIMIT ?',
      )
      .all(q.deviceId, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 100) as WindowRow[];
    return rows.map((r) => ({
      deviceId: r.device_id,
      model: r.model,
      cohorts: JSON.parse(r.cohorts) as string[],
      receivedAt: r.received_ms,
      window: JSON.parse(r.body),
    }));
  }

  async prune(cut: PruneCut): Promise<PruneResult> {
    this.cache.clear();
    const minutes = [storedScope('fleet', 'minute'), storedScope('cohort', 'minute')];
    return this.db.transaction(() => ({
      windows: this.db.prepare('DELETE FROM telemetry_windows WHERE start_ms < ?').run(cut.windowsBefore).changes,
      rollups:
        this.db.prepare('DELETE FROM telemetry_rollups WHERE hour_ms < ?').run(cut.rollupsBefore).changes +
        (cut.minuteRollupsBefore === undefined
          ? 0
          : this.db.prepare('DELETE FROM telemetry_rollups WHERE scope IN (?, ?) AND hour_ms < ?').run(...minutes, cut.minuteRollupsBefore)
              .changes),
      alerts: this.db
        .prepare("DELETE FROM telemetry_alerts WHERE state = 'resolved' AND updated_at < ?")
        .run(new Date(cut.alertsBefore).toISOString()).changes,
    }))();
  }

  async putAlert(a: Alert): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO telemetry_alerts (id, cohort, model, state, opened_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, body = excluded.body`,
      )
      .run(a.id, a.cohort, a.model, a.state, a.openedAt, a.updatedAt, JSON.stringify(a));
  }

  async getAlert(id: string): Promise<Alert | null> {
    const row = this.db.prepare('SELECT body FROM telemetry_alerts WHERE id = ?').get(id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Alert) : null;
  }

  async listAlerts(f: AlertFilter = {}): Promise<Alert[]> {
    const conditions = (['state', 'cohort', 'model'] as const).filter((k) => f[k] !== undefined);
    const where = conditions.map((k) => `${k} = ?`);
    const args: unknown[] = conditions.map((k) => f[k]);
    const sql = `SELECT body FROM telemetry_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit ?? 100) as { body: string }[]).map((r) => JSON.parse(r.body) as Alert);
  }

  async putReference(model: string, ref: ModelReference): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO telemetry_references (model, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
      )
      .run(model, JSON.stringify(ref), new Date().toISOString());
  }

  async listReferences(): Promise<{ model: string; reference: ModelReference }[]> {
    return (this.db.prepare('SELECT model, body FROM telemetry_references ORDER BY model').all() as { model: string; body: string }[]).map(
      (r) => ({
        model: r.model,
        reference: JSON.parse(r.body) as ModelReference,
      }),
    );
  }
}
