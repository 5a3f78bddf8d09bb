// SQLite BundleStore: signed bundles made from model versions (their bytes live in the blob store).
import type { BundleRecord } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { BundleStore } from '../store.ts';
import { toBundle } from '../entity-rows.ts';
import { type Db, json, SQLITE_COLUMNS } from './db.ts';

type Row = Record<string, unknown>;

const toEntity = (r: Row): BundleRecord => toBundle(r, SQLITE_COLUMNS);

export class SqliteBundleStore implements BundleStore {
  constructor(private readonly db: Db) {}

  async create(b: BundleRecord): Promise<BundleRecord> {
    try {
      this.db
        .prepare(
          `INSERT INTO bundles (id, model, model_version, version, sequence, manifest_digest, envelope_digest, key_id,
          chunk_digests, bytes, payload_bytes, artifact, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          b.id,
          b.model,
          b.modelVersion,
          b.version,
          b.sequence,
          b.manifestDigest,
          b.envelopeDigest,
          b.keyId,
          json(b.chunkDigests),
          b.bytes,
          b.payloadBytes,
          b.artifact,
          b.createdAt,
          b.createdBy,
        );
    } catch (e) {
      const msg = String((e as Error).message);
      if (msg.includes('bundles.model, bundles.sequence'))
        throw new StoreError('BUNDLE_SEQUENCE_TAKEN', `model '${b.model}' already has a bundle with sequence ${b.sequence}`);
      if (msg.includes('bundles.id')) throw new StoreError('BUNDLE_EXISTS', `bundle ${b.id} already exists`);
      throw e;
    }
    return b;
  }

  async get(idOrPrefix: string): Promise<BundleRecord | null> {
    if (!/^[0-9a-f]{8,64}$/.test(idOrPrefix)) return null;
    const rows = this.db.prepare('SELECT * FROM bundles WHERE id >= ? AND id < ? LIMIT 2').all(idOrPrefix, `${idOrPrefix}g`) as Row[];
    return rows.length === 1 ? toEntity(rows[0]!) : null;
  }

  async list(filter: { model?: string; limit?: number } = {}): Promise<BundleRecord[]> {
    const limit = Math.min(filter.limit ?? 100, 1000);
    const rows = filter.model
      ? this.db.prepare('SELECT * FROM bundles WHERE model = ? ORDER BY created_at DESC, sequence DESC LIMIT ?').all(filter.model, limit)
      : this.db.prepare('SELECT * FROM bundles ORDER BY created_at DESC, sequence DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(toEntity);
  }

  async nextSequence(model: string): Promise<number> {
    return (this.db.prepare('SELECT COALESCE(MAX(sequence), 0) + 1 AS n FROM bundles WHERE model = ?').get(model) as { n: number }).n;
  }
}
