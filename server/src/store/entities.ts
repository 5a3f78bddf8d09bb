// Plain entity objects that leave the store. Rows never do (see docs/architecture.md).

export type Role = 'viewer' | 'operator' | 'admin';

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

export interface DatasetVersion {
  /** sha256 of the canonical content (lowercase hex); the version's identity. */
  digest: string;
  name: string;
  /** Bytes of the canonical encoding in the blob store. */
  bytes: number;
  rows: number;
  featureShape: number[];
  featureNames: string[];
  classes: string[];
  /** Data quality report from the import (null for built-ins). */
  report: unknown;
  /** Dataset digests this version was derived from (field data + training set, for example). */
  parents: string[];
  source: string;
  createdAt: string;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Figures for one finished epoch. Losses are mean sparse categorical cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7]). */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches, weighted by batch size, measured with dropout active. */
  loss: number;
  /** Training accuracy over the epoch, 0..1, dropout active. */
  accuracy: number;
  /** Loss on the validation set after the epoch (NaN when it is empty). */
  valLoss: number;
  /** Accuracy on the validation set after the epoch, 0..1 (NaN when it is empty). */
  valAccuracy: number;
  /** Wall time of the whole epoch including validation, ms. */
  durationMs: number;
  /** Training throughput of the epoch, samples per second (validation excluded). */
  samplesPerSec: number;
}

export interface Run {
  id: string;
  status: RunStatus;
  /** Registered model name the run's result is filed under. */
  model: string;
  sweepId: string | null;
  datasetDigest: string;
  datasetName: string;
  splitSeed: number;
  spec: unknown;
  hyper: Record<string, unknown>;
  /** Code version, package versions, backend and hardware: everything needed to reproduce. */
  environment: Record<string, unknown>;
  history: EpochRecord[];
  metrics: Record<string, unknown> | null;
  /** Artifact name → blob digest (model.json, weights.bin, model.onnx, ...). */
  artifacts: Record<string, string>;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  createdBy: string;
}

/** What a run is given before it is queued; the rest it earns by running. */
export type RunRequest = Pick<
  Run,
  'id' | 'model' | 'sweepId' | 'datasetDigest' | 'datasetName' | 'splitSeed' | 'spec' | 'hyper' | 'environment' | 'createdBy'
>;

/** A run just queued, created now: no history, metrics, artifacts or error yet. */
export const queuedRun = (r: RunRequest): Run => ({
  id: r.id,
  status: 'queued',
  model: r.model,
  sweepId: r.sweepId,
  datasetDigest: r.datasetDigest,
  datasetName: r.datasetName,
  splitSeed: r.splitSeed,
  spec: r.spec,
  hyper: r.hyper,
  environment: r.environment,
  history: [],
  metrics: null,
  artifacts: {},
  error: null,
  createdAt: new Date().toISOString(),
  startedAt: null,
  endedAt: null,
  createdBy: r.createdBy,
});

export interface ModelVersion {
  model: string;
  version: number;
  runId: string | null;
  /** 'tfjs' for trained runs, 'onnx' for imported ONNX models. */
  format: 'tfjs' | 'onnx';
  artifacts: Record<string, string>;
  signature: unknown;
  metrics: Record<string, unknown> | null;
  /** Quantization report and parity verdict, once exported. */
  quantization: Record<string, unknown> | null;
  tags: string[];
  aliases: string[];
  createdAt: string;
  description: string;
}

export interface AliasMove {
  model: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  actor: string;
  reason: string;
  at: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
}

export interface Sweep {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  model: string;
  config: Record<string, unknown>;
  runIds: string[];
  createdAt: string;
  endedAt: string | null;
}

/** A provisioned device. Its credential lives in the store only as a hash (see DeviceStore.credential). */
export interface Device {
  /** [WIRE-1.2] id, also its MQTT username and client id. */
  id: string;
  name: string;
  tags: string[];
  groups: string[];
  attributes: Record<string, string>;
  createdAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  online: boolean;
  /** Newest presence session seen from the device [WIRE-2.6]. */
  session: number;
  /** The device's last reported state [WIRE-2.3], or null before its first report. */
  reported: Record<string, unknown> | null;
  reportedAt: string | null;
  /** `model@version` the device reports it runs (from `reported.model`), for filtering. */
  modelVersion: string | null;
  /** Deployment state from `reported.state` [WIRE-4.1]. */
  deployState: string | null;
  /** The server's intent [WIRE-2.2] as last published, or null before any. */
  desired: Record<string, unknown> | null;
  /** Grows with every change of `desired`. */
  desiredRev: number;
  desiredBundleId: string | null;
}

/** What a new device is created with (the secret itself never reaches the store). */
export interface NewDevice {
  id: string;
  tokenHash: string;
  name?: string;
  tags?: string[];
  groups?: string[];
  attributes?: Record<string, string>;
}

/** What every device enrolled by one claim gets, and which serials it accepts. */
export interface EnrollmentTemplate {
  tags: string[];
  groups: string[];
  attributes: Record<string, string>;
  /** Glob (`*`, `?`) a serial must match, or null for any [WIRE-1.2] id. */
  serialPattern: string | null;
  /** Whether a known serial may enroll again with a different key (a replaced board). */
  allowReenroll: boolean;
}

/** A claim devices present once, on first start, to get their own identity. */
export interface Enrollment {
  /** `enr-` and 8 hex characters; part of the claim. */
  id: string;
  name: string;
  quota: number;
  /** Devices created by this claim (re-enrollments do not count). */
  used: number;
  expiresAt: string;
  template: EnrollmentTemplate;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

export interface NewEnrollment {
  id: string;
  name: string;
  claimHash: string;
  quota: number;
  expiresAt: string;
  template: EnrollmentTemplate;
  createdBy: string;
}

/** Filters for listing devices; every field narrows the result. */
export interface DeviceFilter {
  tag?: string;
  group?: string;
  online?: boolean;
  /** `name@version` as reported, or `none` for devices that report no model. */
  modelVersion?: string;
  /** Reported deployment state [WIRE-4.1]. */
  deployState?: string;
  /** Default false: revoked devices are listed only when asked for. */
  revoked?: boolean;
}

/** One entry of a device's timeline (presence, reports, desired changes, status events, revocation). */
export interface DeviceEvent {
  id: number;
  deviceId: string;
  at: string;
  kind: string;
  detail: unknown;
}

/** A signed bundle made from a model version, stored as blobs (file, envelope, chunks). */
export interface BundleRecord {
  /** sha256 of the bundle container file: the bundle's identity [WIRE-2.2 `id`]. */
  id: string;
  model: string;
  /** Registry version number the bundle was made from. */
  modelVersion: number;
  /** Semantic version written into the manifest. */
  version: string;
  /** Anti-rollback sequence, growing per model. */
  sequence: number;
  /** sha256 of the manifest bytes (SPEC). */
  manifestDigest: string;
  /** sha256 of the signed envelope [WIRE-2.7]; what a desired state calls `manifestDigest`. */
  envelopeDigest: string;
  keyId: string;
  /** Distinct chunk digests, in manifest order. */
  chunkDigests: string[];
  /** Size of the bundle container file in bytes. */
  bytes: number;
  /** Sum of payload file sizes in bytes. */
  payloadBytes: number;
  artifact: string;
  createdAt: string;
  createdBy: string;
}
