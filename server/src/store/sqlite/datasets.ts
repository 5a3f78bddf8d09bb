// SQLite DatasetStore: immutable dataset versions named by content digest.
import type { DatasetVersion } from '../entities.ts';
import type { DatasetStore } from '../store.ts';
import { type Db, json, parse } from './db.ts';

type Row = {
  digest: string;
  name: string;
  bytes: number;
  rows: number;
  meta: string;
  report: string | null;
  parents: string;
  source: string;
  created_at: string;
};

function toEntity(r: Row): DatasetVersion {
  const meta = parse<{ featureShape: number[]; featureNames: string[]; classes: string[] }>(r.meta);
  return {
    digest: r.digest,
    name: r.name,
    bytes: r.bytes,
    rows: r.rows,
    featureShape: meta.featureShape,
    featureNames: meta.featureNames,
    classes: meta.classes,
    report: parse(r.report),
    parents: parse<string[]>(r.parents),
    source: r.source,
    createdAt: r.created_at,
  };
}

export class SqliteDatasetStore implements DatasetStore {
  constructor(private readonly db: Db) {}

  async put(d: DatasetVersion): Promise<DatasetVersion> {
    const existing = this.db.prepare('SELECT * FROM datasets WHERE name = ? AND digest = ?').get(d.name, d.digest) as Row | undefined;
    if (existing) return toEntity(existing);
    const meta = { featureShape: d.featureShape, featureNames: d.featureNames, classes: d.classes };
    this.db
      .prepare(
        'INSERT INTO datasets (digest, name, bytes, rows, meta, report, parents, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(d.digest, d.name, d.bytes, d.rows, json(meta), json(d.report), json(d.parents), d.source, d.createdAt);
    return d;
  }

  async get(digest: string): Promise<DatasetVersion | null> {
    const r = this.db.prepare('SELECT * FROM datasets WHERE digest = ? ORDER BY created_at LIMIT 1').get(digest) as Row | undefined;
    return r ? toEntity(r) : null;
  }

  async resolve(nameOrDigest: string): Promise<DatasetVersion | null> {
    const [name, digest] = nameOrDigest.split('@') as [string, string | undefined];
    if (digest !== undefined) {
      const r = this.db
        .prepare('SELECT * FROM datasets WHERE name = ? AND digest LIKE ? ORDER BY created_at DESC LIMIT 1')
        .get(name, `${digest}%`) as Row | undefined;
      return r ? toEntity(r) : null;
    }
    const byName = this.db.prepare('SELECT * FROM datasets WHERE name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(name) as
      Row | undefined;
    if (byName) return toEntity(byName);
    if (/^[0-9a-f]{8,64}$/.test(name)) {
      const byDigest = this.db.prepare('SELECT * FROM datasets WHERE digest LIKE ? LIMIT 2').all(`${name}%`) as Row[];
      if (byDigest.length === 1) return toEntity(byDigest[0]!);
    }
    return null;
  }

  async list(): Promise<DatasetVersion[]> {
    return (this.db.prepare('SELECT * FROM datasets ORDER BY created_at DESC').all() as Row[]).map(toEntity);
  }
}
