// PostgreSQL SweepStore and AuditStore: small domains that share nothing but this file's brevity.
import type { AuditRecord, Sweep } from '../entities.ts';
import type { AuditStore, SweepStore } from '../store.ts';
import type { Pool } from './pg-db.ts';
import { iso, isoOrNull, json, num, now } from './pg-values.ts';

export class PostgresSweepStore implements SweepStore {
  constructor(private readonly pool: Pool) {}

  async create(s: Sweep): Promise<Sweep> {
    await this.pool.query(
      'INSERT INTO sweeps (id, status, model, config, run_ids, created_at, ended_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7)',
      [s.id, s.status, s.model, json(s.config), json(s.runIds), s.createdAt, s.endedAt],
    );
    return s;
  }

  async get(id: string): Promise<Sweep | null> {
    const r = (await this.pool.query('SELECT * FROM sweeps WHERE id = $1', [id])).rows[0];
    if (!r) return null;
    return {
      id: r.id,
      status: r.status,
      model: r.model,
      config: r.config,
      runIds: r.run_ids,
      createdAt: iso(r.created_at),
      endedAt: isoOrNull(r.ended_at),
    };
  }

  async addRun(id: string, runId: string): Promise<void> {
    // Appended in the statement itself, so concurrent trials of one sweep never drop each other's ids.
    await this.pool.query('UPDATE sweeps SET run_ids = run_ids || jsonb_build_array($2::text) WHERE id = $1', [id, runId]);
  }

  async setStatus(id: string, status: Sweep['status']): Promise<void> {
    await this.pool.query('UPDATE sweeps SET status = $2, ended_at = $3 WHERE id = $1', [id, status, status === 'running' ? null : now()]);
  }
}

export class PostgresAuditStore implements AuditStore {
  constructor(private readonly pool: Pool) {}

  async record(a: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    await this.pool.query('INSERT INTO audit (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5::jsonb)', [
      now(),
      a.actor,
      a.action,
      a.subject,
      json(a.detail),
    ]);
  }

  async list(filter: { subject?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const limit = filter.limit ?? 200;
    const { rows } = filter.subject
      ? await this.pool.query('SELECT * FROM audit WHERE subject = $1 ORDER BY id DESC LIMIT $2', [filter.subject, limit])
      : await this.pool.query('SELECT * FROM audit ORDER BY id DESC LIMIT $1', [limit]);
    return rows.map((r) => ({
      id: num(r.id),
      at: iso(r.at),
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detail: r.detail ?? null,
    }));
  }
}
