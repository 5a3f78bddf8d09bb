// PostgreSQL RunStore: training runs with their full lineage and per-epoch history.
import type { EpochRecord, Run, RunStatus } from '../entities.ts';
import { toRun } from '../entity-rows.ts';
import type { RunStore } from '../store.ts';
import type { Pool } from './pg-db.ts';
import { json, params, PG_COLUMNS, type Row } from './pg-values.ts';

const toEntity = (r: Row): Run => toRun(r, PG_COLUMNS);

export class PostgresRunStore implements RunStore {
  constructor(private readonly pool: Pool) {}

  async create(r: Run): Promise<Run> {
    await this.pool.query(
      `INSERT INTO runs (id, status, model, sweep_id, dataset_digest, dataset_name, split_seed, spec, hyper, environment,
       history, metrics, artifacts, error, created_at, started_at, ended_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb, $15, $16, $17, $18)`,
      [
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
      ],
    );
    return r;
  }

  async get(id: string): Promise<Run | null> {
    const { rows } = await this.pool.query('SELECT * FROM runs WHERE id = $1', [id]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async list(filter: { sweepId?: string; model?: string; limit?: number } = {}): Promise<Run[]> {
    const { args, p } = params();
    const where: string[] = [];
    if (filter.sweepId) where.push(`sweep_id = ${p(filter.sweepId)}`);
    if (filter.model) where.push(`model = ${p(filter.model)}`);
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, seq DESC LIMIT ${p(filter.limit ?? 200)}`;
    return (await this.pool.query(sql, args)).rows.map(toEntity);
  }

  async setStatus(
    id: string,
    status: RunStatus,
    patch: Partial<Pick<Run, 'startedAt' | 'endedAt' | 'error' | 'environment'>> = {},
  ): Promise<void> {
    // One statement, keeping each field the patch leaves out (or sets to null), as the SQLite store does.
    await this.pool.query(
      `UPDATE runs SET status = $2, started_at = COALESCE($3, started_at), ended_at = COALESCE($4, ended_at),
       error = COALESCE($5::jsonb, error), environment = COALESCE($6::jsonb, environment) WHERE id = $1`,
      [
        id,
        status,
        patch.startedAt ?? null,
        patch.endedAt ?? null,
        patch.error ? json(patch.error) : null,
        patch.environment ? json(patch.environment) : null,
      ],
    );
  }

  async appendEpoch(id: string, e: EpochRecord): Promise<void> {
    await this.pool.query('UPDATE runs SET history = history || jsonb_build_array($2::jsonb) WHERE id = $1', [id, json(e)]);
  }

  async finish(id: string, patch: { metrics: Record<string, unknown>; artifacts: Record<string, string> }): Promise<void> {
    await this.pool.query('UPDATE runs SET metrics = $2::jsonb, artifacts = $3::jsonb WHERE id = $1', [
      id,
      json(patch.metrics),
      json(patch.artifacts),
    ]);
  }

  async listUnfinished(): Promise<Run[]> {
    return (await this.pool.query("SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY seq")).rows.map(toEntity);
  }
}
