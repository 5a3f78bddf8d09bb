// PostgreSQL DatasetStore: immutable dataset versions named by content digest.
import type { DatasetVersion } from '../entities.ts';
import type { DatasetStore } from '../store.ts';
import type { Pool } from './pg-db.ts';
import { iso, json, likePrefix, num, type Row } from './pg-values.ts';

function toEntity(r: Row): DatasetVersion {
  const meta = r.meta as { featureShape: number[]; featureNames: string[]; classes: string[] };
  return {
    digest: r.digest as string,
    name: r.name as string,
    bytes: num(r.bytes),
    rows: num(r.rows),
    featureShape: meta.featureShape,
    featureNames: meta.featureNames,
    classes: meta.classes,
    report: r.report ?? null,
    parents: r.parents as string[],
    source: r.source as string,
    createdAt: iso(r.created_at),
  };
}

export class PostgresDatasetStore implements DatasetStore {
  constructor(private readonly pool: Pool) {}

  async put(d: DatasetVersion): Promise<DatasetVersion> {
    const meta = { featureShape: d.featureShape, featureNames: d.featureNames, classes: d.classes };
    // ON CONFLICT DO NOTHING: two writers putting the same version both succeed, and the first one's row stays.
    const inserted = await this.pool.query(
      `INSERT INTO datasets (digest, name, bytes, rows, meta, report, parents, source, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9) ON CONFLICT (name, digest) DO NOTHING`,
      [d.digest, d.name, d.bytes, d.rows, json(meta), json(d.report), json(d.parents), d.source, d.createdAt],
    );
    if (inserted.rowCount) return d;
    const { rows } = await this.pool.query('SELECT * FROM datasets WHERE name = $1 AND digest = $2', [d.name, d.digest]);
    return toEntity(rows[0]!);
  }

  async get(digest: string): Promise<DatasetVersion | null> {
    const { rows } = await this.pool.query('SELECT * FROM datasets WHERE digest = $1 ORDER BY created_at, seq LIMIT 1', [digest]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async resolve(nameOrDigest: string): Promise<DatasetVersion | null> {
    const [name, digest] = nameOrDigest.split('@') as [string, string | undefined];
    if (digest !== undefined) {
      const { rows } = await this.pool.query(
        'SELECT * FROM datasets WHERE name = $1 AND digest LIKE $2 ORDER BY created_at DESC, seq DESC LIMIT 1',
        [name, likePrefix(digest)],
      );
      return rows[0] ? toEntity(rows[0]) : null;
    }
    const byName = await this.pool.query('SELECT * FROM datasets WHERE name = $1 ORDER BY created_at DESC, seq DESC LIMIT 1', [name]);
    if (byName.rows[0]) return toEntity(byName.rows[0]);
    if (/^[0-9a-f]{8,64}$/.test(name)) {
      const byDigest = await this.pool.query('SELECT * FROM datasets WHERE digest LIKE $1 LIMIT 2', [likePrefix(name)]);
      if (byDigest.rows.length === 1) return toEntity(byDigest.rows[0]);
    }
    return null;
  }

  async list(): Promise<DatasetVersion[]> {
    return (await this.pool.query('SELECT * FROM datasets ORDER BY created_at DESC, seq DESC')).rows.map(toEntity);
  }
}
