// SQLite SweepStore and AuditStore: small domains that share nothing but this file's brevity.
import type { AuditRecord, Sweep } from '../entities.ts';
import type { AuditStore, SweepStore } from '../store.ts';
import { type Db, json, now, parse } from './db.ts';

type Row = Record<string, unknown>;

export class SqliteSweepStore implements SweepStore {
  constructor(private readonly db: Db) {}

  async create(s: Sweep): Promise<Sweep> {
    this.db
      .prepare('INSERT INTO sweeps (id, status, model, config, run_ids, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.status, s.model, json(s.config), json(s.runIds), s.createdAt, s.endedAt);
    return s;
  }

  async get(id: string): Promise<Sweep | null> {
    const r = this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    return {
      id: r.id as string,
      status: r.status as Sweep['status'],
      model: r.model as string,
      config: parse(r.config),
      runIds: parse(r.run_ids),
      createdAt: r.created_at as string,
      endedAt: (r.ended_at as string) ?? null,
    };
  }

  async addRun(id: string, runId: string): Promise<void> {
    this.db.prepare("UPDATE sweeps SET run_ids = json_insert(run_ids, '$[#]', ?) WHERE id = ?").run(runId, id);
  }

  async setStatus(id: string, status: Sweep['status']): Promise<void> {
    this.db.prepare('UPDATE sweeps SET status = ?, ended_at = ? WHERE id = ?').run(status, status === 'running' ? null : now(), id);
  }
}

export class SqliteAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async record(a: Omit<AuditRecord, 'id' | 'at'>): Promise<void> {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)')
      .run(now(), a.actor, a.action, a.subject, json(a.detail));
  }

  async list(filter: { subject?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    const rows = (
      filter.subject
        ? this.db.prepare('SELECT * FROM audit WHERE subject = ? ORDER BY id DESC LIMIT ?').all(filter.subject, filter.limit ?? 200)
        : this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(filter.limit ?? 200)
    ) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as string,
      actor: r.actor as string,
      action: r.action as string,
      subject: r.subject as string,
      detail: parse(r.detail),
    }));
  }
}
