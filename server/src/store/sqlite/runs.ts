// SQLite RunStore: training runs with their full lineage and per-epoch history.
import type { EpochRecord, Run, RunStatus } from '../entities.ts';
import { toRun } from '../entity-rows.ts';
import type { RunStore } from '../store.ts';
import { type Db, json, SQLITE_COLUMNS } from './db.ts';

type Row = Record<string, unknown>;

const toEntity = (r: Row): Run => toRun(r, SQLITE_COLUMNS);

export class SqliteRunStore implements RunStore {
  constructor(private readonly db: Db) {}

  async create(r: Run): Promise<Run> {
    this.db
      .prepare(
        `INSERT INTO runs (id, status, model, sweep_id, dataset_digest, dataset_name, split_seed, spec, hyper, environment,
         history, metrics, artifacts, error, created_at, started_at, ended_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.status,
        r.model,
        r.sweepId,
        r.datasetDigest,
        r.datasetName,
        r.splitSeed,
        json(r.spec),
        json(r.hyper),
        json(r.environment),
        json(r.history),
        json(r.metrics),
        json(r.artifacts),
        json(r.error),
        r.createdAt,
        r.startedAt,
        r.endedAt,
        r.createdBy,
      );
    return r;
  }

  async get(id: string): Promise<Run | null> {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r ? toEntity(r) : null;
  }

  async list(filter: { sweepId?: string; model?: string; limit?: number } = {}): Promise<Run[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.sweepId) {
      where.push('sweep_id = ?');
      args.push(filter.sweepId);
    }
    if (filter.model) {
      where.push('model = ?');
      args.push(filter.model);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 200) as Row[]).map(toEntity);
  }

  async setStatus(
    id: string,
    status: RunStatus,
    patch: Partial<Pick<Run, 'startedAt' | 'endedAt' | 'error' | 'environment'>> = {},
  ): Promise<void> {
    const cur = await this.get(id);
    if (!cur) return;
    this.db
      .prepare('UPDATE runs SET status = ?, started_at = ?, ended_at = ?, error = ?, environment = ? WHERE id = ?')
      .run(
        status,
        patch.startedAt ?? cur.startedAt,
        patch.endedAt ?? cur.endedAt,
        json(patch.error ?? cur.error),
        json(patch.environment ?? cur.environment),
        id,
      );
  }

  async appendEpoch(id: string, e: EpochRecord): Promise<void> {
    // json_insert keeps this one statement, so a concurrent reader never sees a half-written history.
    this.db.prepare("UPDATE runs SET history = json_insert(history, '$[#]', json(?)) WHERE id = ?").run(json(e), id);
  }

  async finish(id: string, patch: { metrics: Record<string, unknown>; artifacts: Record<string, string> }): Promise<void> {
    this.db.prepare('UPDATE runs SET metrics = ?, artifacts = ? WHERE id = ?').run(json(patch.metrics), json(patch.artifacts), id);
  }

  async listUnfinished(): Promise<Run[]> {
    return (this.db.prepare("SELECT * FROM runs WHERE status IN ('queued', 'running')").all() as Row[]).map(toEntity);
  }
}
