// SQLite ModelStore: the registry of named models, versions, aliases and alias history.
import type { AliasMove, ModelVersion } from '../entities.ts';
import type { ModelStore } from '../store.ts';
import { toAliasMove, toModelVersion } from '../entity-rows.ts';
import { type Db, json, now, SQLITE_COLUMNS } from './db.ts';

type Row = Record<string, unknown>;

export class SqliteModelStore implements ModelStore {
  constructor(private readonly db: Db) {}

  private aliasesOf(model: string, version: number): string[] {
    return (
      this.db.prepare('SELECT alias FROM model_aliases WHERE model = ? AND version = ? ORDER BY alias').all(model, version) as {
        alias: string;
      }[]
    ).map((r) => r.alias);
  }

  private toEntity(r: Row): ModelVersion {
    return toModelVersion(r, SQLITE_COLUMNS, this.aliasesOf(r.model as string, r.version as number));
  }

  async addVersion(v: Omit<ModelVersion, 'version' | 'aliases' | 'createdAt'>): Promise<ModelVersion> {
    const insert = this.db.transaction(() => {
      const { n } = this.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS n FROM model_versions WHERE model = ?').get(v.model) as {
        n: number;
      };
      this.db
        .prepare(
          `INSERT INTO model_versions (model, version, run_id, format, artifacts, signature, metrics, quantization, tags, description, created_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          v.model,
          n,
          v.runId,
          v.format,
          json(v.artifacts),
          json(v.signature),
          json(v.metrics),
          json(v.quantization),
          json(v.tags),
          v.description,
          now(),
        );
      return n;
    });
    return (await this.getVersion(v.model, insert()))!;
  }

  async getVersion(model: string, version: number): Promise<ModelVersion | null> {
    const r = this.db.prepare('SELECT * FROM model_versions WHERE model = ? AND version = ?').get(model, version) as Row | undefined;
    return r ? this.toEntity(r) : null;
  }

  async resolve(ref: string): Promise<ModelVersion | null> {
    const at = ref.lastIndexOf('@');
    const model = at < 0 ? ref : ref.slice(0, at);
    const which = at < 0 ? 'latest' : ref.slice(at + 1);
    if (/^\d+$/.test(which)) return this.getVersion(model, Number(which));
    if (which === 'latest') {
      const r = this.db.prepare('SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC LIMIT 1').get(model) as Row | undefined;
      return r ? this.toEntity(r) : null;
    }
    const a = this.db.prepare('SELECT version FROM model_aliases WHERE model = ? AND alias = ?').get(model, which) as
      { version: number } | undefined;
    return a ? this.getVersion(model, a.version) : null;
  }

  async listModels(): Promise<{ name: string; latestVersion: number; aliases: Record<string, number> }[]> {
    const rows = this.db.prepare('SELECT model, MAX(version) AS v FROM model_versions GROUP BY model ORDER BY model').all() as {
      model: string;
      v: number;
    }[];
    return rows.map((r) => {
      const aliases = this.db.prepare('SELECT alias, version FROM model_aliases WHERE model = ?').all(r.model) as {
        alias: string;
        version: number;
      }[];
      return { name: r.model, latestVersion: r.v, aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])) };
    });
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    return (this.db.prepare('SELECT * FROM model_versions WHERE model = ? ORDER BY version DESC').all(model) as Row[]).map((r) =>
      this.toEntity(r),
    );
  }

  async setQuantization(model: string, version: number, q: Record<string, unknown>, artifacts: Record<string, string>): Promise<void> {
    const cur = await this.getVersion(model, version);
    if (!cur) return;
    this.db
      .prepare('UPDATE model_versions SET quantization = ?, artifacts = ? WHERE model = ? AND version = ?')
      .run(json(q), json({ ...cur.artifacts, ...artifacts }), model, version);
  }

  async moveAlias(m: Omit<AliasMove, 'fromVersion' | 'at'>): Promise<AliasMove> {
    // One transaction: the alias and its audit record change together or not at all.
    return this.db.transaction((): AliasMove => {
      const cur = this.db.prepare('SELECT version FROM model_aliases WHERE model = ? AND alias = ?').get(m.model, m.alias) as
        { version: number } | undefined;
      const at = now();
      this.db
        .prepare(
          'INSERT INTO model_aliases (model, alias, version) VALUES (?, ?, ?) ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version',
        )
        .run(m.model, m.alias, m.toVersion);
      this.db
        .prepare('INSERT INTO alias_moves (model, alias, from_version, to_version, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(m.model, m.alias, cur?.version ?? null, m.toVersion, m.actor, m.reason, at);
      return { ...m, fromVersion: cur?.version ?? null, at };
    })();
  }

  async aliasHistory(model: string): Promise<AliasMove[]> {
    const rows = this.db.prepare('SELECT * FROM alias_moves WHERE model = ? ORDER BY id').all(model) as Row[];
    return rows.map((r) => toAliasMove(r, SQLITE_COLUMNS));
  }
}
