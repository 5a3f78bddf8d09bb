// PostgreSQL BundleStore: signed bundles made from model versions (their bytes live in the blob store).
import type { BundleRecord } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { BundleStore } from '../store.ts';
import type { Pool } from './pg-db.ts';
import { PG_COLUMNS, type Row, uniqueViolation } from './pg-values.ts';
import { toBundle } from '../entity-rows.ts';

const toEntity = (r: Row): BundleRecord => toBundle(r, PG_COLUMNS);

export class PostgresBundleStore implements BundleStore {
  constructor(private readonly pool: Pool) {}

  async create(b: BundleRecord): Promise<BundleRecord> {
    try {
      await this.pool.query(
        `INSERT INTO bundles (id, model, model_version, version, sequence, manifest_digest, envelope_digest, key_id,
          chunk_digests, bytes, payload_bytes, artifact, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11, $12, $13, $14)`,
        [
          b.id,
          b.model,
          b.modelVersion,
          b.version,
          b.sequence,
          b.manifestDigest,
          b.envelopeDigest,
          b.keyId,
          b.chunkDigests,
          b.bytes,
          b.payloadBytes,
          b.artifact,
          b.createdAt,
          b.createdBy,
        ],
      );
    } catch (e) {
      // The unique constraints are the arbiter, so two processes racing for one sequence get one winner.
      const dup = uniqueViolation(e);
      if (dup?.constraint === 'bundles_model_sequence')
        throw new StoreError('BUNDLE_SEQUENCE_TAKEN', `model '${b.model}' already has a bundle with sequence ${b.sequence}`);
      if (dup?.constraint === 'bundles_pkey') throw new StoreError('BUNDLE_EXISTS', `bundle ${b.id} already exists`);
      throw e;
    }
    return b;
  }

  async get(idOrPrefix: string): Promise<BundleRecord | null> {
    if (!/^[0-9a-f]{8,64}$/.test(idOrPrefix)) return null;
    // A range on the byte-ordered primary key: hex ids starting with the prefix sort before prefix + 'g'.
    const { rows } = await this.pool.query('SELECT * FROM bundles WHERE id >= $1 AND id < $2 LIMIT 2', [idOrPrefix, `${idOrPrefix}g`]);
    return rows.length === 1 ? toEntity(rows[0]) : null;
  }

  async list(filter: { model?: string; limit?: number } = {}): Promise<BundleRecord[]> {
    const limit = Math.min(filter.limit ?? 100, 1000);
    const { rows } = filter.model
      ? await this.pool.query('SELECT * FROM bundles WHERE model = $1 ORDER BY created_at DESC, sequence DESC LIMIT $2', [
          filter.model,
          limit,
        ])
      : await this.pool.query('SELECT * FROM bundles ORDER BY created_at DESC, sequence DESC LIMIT $1', [limit]);
    return rows.map(toEntity);
  }

  async nextSequence(model: string): Promise<number> {
    const { rows } = await this.pool.query('SELECT COALESCE(MAX(sequence), 0) + 1 AS n FROM bundles WHERE model = $1', [model]);
    return rows[0].n as number;
  }
}
