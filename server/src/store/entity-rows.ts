// How the metadata store's rows read back as entities. Both engines (store/sqlite, store/postgres) keep the
// same columns and differ only in how a few column types arrive, which each states once as a ColumnCodec
// (../rows/column-codec.ts); the mapping itself is written here once.
// The mappers look alike (a column per field) but each reads its own table; a scan for repeated code will pair them.
import type { ColumnCodec, Row } from '../rows/column-codec.ts';
import type { AliasMove, BundleRecord, Device, Enrollment, ModelVersion, Run, RunStatus } from './entities.ts';

export const toRun = (r: Row, c: ColumnCodec): Run => ({
  id: r.id as string,
  status: r.status as RunStatus,
  model: r.model as string,
  sweepId: (r.sweep_id as string) ?? null,
  datasetDigest: r.dataset_digest as string,
  datasetName: r.dataset_name as string,
  splitSeed: c.int(r.split_seed),
  spec: c.json(r.spec),
  hyper: c.json(r.hyper),
  environment: c.json(r.environment),
  history: c.json(r.history),
  metrics: c.json(r.metrics),
  artifacts: c.json(r.artifacts),
  error: c.json(r.error),
  createdAt: c.time(r.created_at),
  startedAt: c.timeOrNull(r.started_at),
  endedAt: c.timeOrNull(r.ended_at),
  createdBy: r.created_by as string,
});

/** A `model_versions` row; `aliases` are read apart (a join in PostgreSQL, a second query in SQLite). */
export const toModelVersion = (r: Row, c: ColumnCodec, aliases: string[]): ModelVersion => ({
  model: r.model as string,
  version: r.version as number,
  runId: (r.run_id as string) ?? null,
  format: r.format as ModelVersion['format'],
  artifacts: c.json(r.artifacts),
  signature: c.json(r.signature),
  metrics: c.json(r.metrics),
  quantization: c.json(r.quantization),
  tags: c.json(r.tags),
  aliases,
  createdAt: c.time(r.created_at),
  description: r.description as string,
});

export const toAliasMove = (r: Row, c: ColumnCodec): AliasMove => ({
  model: r.model as string,
  alias: r.alias as string,
  fromVersion: (r.from_version as number) ?? null,
  toVersion: r.to_version as number,
  actor: r.actor as string,
  reason: r.reason as string,
  at: c.time(r.at),
});

export const toBundle = (r: Row, c: ColumnCodec): BundleRecord => ({
  id: r.id as string,
  model: r.model as string,
  modelVersion: r.model_version as number,
  version: r.version as string,
  sequence: r.sequence as number,
  manifestDigest: r.manifest_digest as string,
  envelopeDigest: r.envelope_digest as string,
  keyId: r.key_id as string,
  chunkDigests: c.json(r.chunk_digests),
  bytes: c.int(r.bytes),
  payloadBytes: c.int(r.payload_bytes),
  artifact: r.artifact as string,
  createdAt: c.time(r.created_at),
  createdBy: r.created_by as string,
});

export const toEnrollment = (r: Row, c: ColumnCodec): Enrollment => ({
  id: r.id as string,
  name: r.name as string,
  quota: r.quota as number,
  used: r.used as number,
  expiresAt: c.time(r.expires_at),
  template: c.json(r.template),
  createdAt: c.time(r.created_at),
  createdBy: r.created_by as string,
  revokedAt: c.timeOrNull(r.revoked_at),
});

export const toDevice = (r: Row, c: ColumnCodec): Device => ({
  id: r.id as string,
  name: r.name as string,
  tags: c.json(r.tags),
  groups: c.json(r.groups),
  attributes: c.json(r.attributes),
  createdAt: c.time(r.created_at),
  revokedAt: c.timeOrNull(r.revoked_at),
  lastSeenAt: c.timeOrNull(r.last_seen_at),
  online: c.bool(r.online),
  session: c.int(r.session),
  reported: c.json(r.reported),
  reportedAt: c.timeOrNull(r.reported_at),
  modelVersion: (r.model_version as string) ?? null,
  deployState: (r.deploy_state as string) ?? null,
  desired: c.json(r.desired),
  desiredRev: r.desired_rev as number,
  desiredBundleId: (r.desired_bundle as string) ?? null,
});
