// PostgreSQL ModelStore: the registry of named models, versions, aliases and alias history.
// Version numbering and alias moves take a transaction-scoped advisory lock per model (or alias), so
// two server processes never hand out the same version or record a move from a stale version.
import type { AliasMove, ModelVersion } from '../entities.ts';
import type { ModelStore } from '../store.ts';
import { lockKey, type Pool, withTx } from './pg-db.ts';
import { toAliasMove, toModelVersion } from '../entity-rows.ts';
import { json, now, PG_COLUMNS, type Row } from './pg-values.ts';

/** Every version column plus its aliases, in one round trip. */
const SELECT_VERSION = `SELECT mv.*, ARRAY(SELECT a.alias FROM model_aliases a WHERE a.model = mv.model AND a.version = mv.version ORDER BY a.alias) AS aliases
  FROM model_versions mv`;

const toEntity = (r: Row): ModelVersion => toModelVersion(r, PG_COLUMNS, r.aliases as string[]);

export class PostgresModelStore implements ModelStore {
  constructor(private readonly pool: Pool) {}

  async addVersion(v: Omit<ModelVersion, 'version' | 'aliases' | 'createdAt'>): Promise<ModelVersion> {
    const version = await withTx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`model-version:${v.model}`)]);
      const { rows } = await c.query(
        `INSERT INTO model_versions (model, version, run_id, format, artifacts, signature, metrics, quantization, tags, description, created_at)
         SELECT $1::text, COALESCE(MAX(version), 0) + 1, $2::text, $3::text, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::text[], $9::text, $10::timestamptz
         FROM model_versions WHERE model = $1 RETURNING version`,
        [
          v.model,
          v.runId,
          v.format,
          json(v.artifacts),
          json(v.signature),
          json(v.metrics),
          json(v.quantization),
          v.tags,
          v.description,
          now(),
        ],
      );
      return rows[0].version as number;
    });
    return (await this.getVersion(v.model, version))!;
  }

  async getVersion(model: string, version: number): Promise<ModelVersion | null> {
    const { rows } = await this.pool.query(`${SELECT_VERSION} WHERE mv.model = $1 AND mv.version = $2`, [model, version]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async resolve(ref: string): Promise<ModelVersion | null> {
    const at = ref.lastIndexOf('@');
    const model = at < 0 ? ref : ref.slice(0, at);
    const which = at < 0 ? 'latest' : ref.slice(at + 1);
    if (/^\d+$/.test(which)) return Number(which) <= 0x7fffffff ? this.getVersion(model, Number(which)) : null;
    const { rows } =
      which === 'latest'
        ? await this.pool.query(`${SELECT_VERSION} WHERE mv.model = $1 ORDER BY mv.version DESC LIMIT 1`, [model])
        : await this.pool.query(
            `${SELECT_VERSION} JOIN model_aliases al ON al.model = mv.model AND al.version = mv.version
          WHERE al.model = $1 AND al.alias = $2`,
            [model, which],
          );
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async listModels(): Promise<{ name: string; latestVersion: number; aliases: Record<string, number> }[]> {
    const { rows } = await this.pool.query(`SELECT mv.model, MAX(mv.version) AS v,
        (SELECT COALESCE(jsonb_object_agg(a.alias, a.version), '{}'::jsonb) FROM model_aliases a WHERE a.model = mv.model) AS aliases
      FROM model_versions mv GROUP BY mv.model ORDER BY mv.model`);
    return rows.map((r) => ({ name: r.model as string, latestVersion: r.v as number, aliases: r.aliases as Record<string, number> }));
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    return (await this.pool.query(`${SELECT_VERSION} WHERE mv.model = $1 ORDER BY mv.version DESC`, [model])).rows.map(toEntity);
  }

  async setQuantization(model: string, version: number, q: Record<string, unknown>, artifacts: Record<string, string>): Promise<void> {
    // `||` merges the new artifacts over the old in the same statement, so no other writer's change is lost.
    await this.pool.query(
      'UPDATE model_versions SET quantization = $3::jsonb, artifacts = artifacts || $4::jsonb WHERE model = $1 AND version = $2',
      [model, version, json(q), json(artifacts)],
    );
  }

  async moveAlias(m: Omit<AliasMove, 'fromVersion' | 'at'>): Promise<AliasMove> {
    // One transaction: the alias and its history record change together or not at all.
    return withTx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`model-alias:${m.model}@${m.alias}`)]);
      const cur = await c.query('SELECT version FROM model_aliases WHERE model = $1 AND alias = $2', [m.model, m.alias]);
      const fromVersion = (cur.rows[0]?.version as number | undefined) ?? null;
      const at = now();
      await c.query(
        'INSERT INTO model_aliases (model, alias, version) VALUES ($1, $2, $3) ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version',
        [m.model, m.alias, m.toVersion],
      );
      await c.query(
        'INSERT INTO alias_moves (model, alias, from_version, to_version, actor, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [m.model, m.alias, fromVersion, m.toVersion, m.actor, m.reason, at],
      );
      return { ...m, fromVersion, at };
    });
  }

  async aliasHistory(model: string): Promise<AliasMove[]> {
    const { rows } = await this.pool.query('SELECT * FROM alias_moves WHERE model = $1 ORDER BY id', [model]);
    return rows.map((r) => toAliasMove(r, PG_COLUMNS));
  }
}
