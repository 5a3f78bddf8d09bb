// The Store seam: metadata split by domain. SQLite by default; each domain is its own interface
// so a PostgreSQL store can implement them one at a time. All methods are async for that reason.
import type {
  AliasMove,
  ApiToken,
  AuditRecord,
  BundleRecord,
  DatasetVersion,
  Device,
  DeviceEvent,
  DeviceFilter,
  Enrollment,
  EpochRecord,
  ModelVersion,
  NewDevice,
  NewEnrollment,
  Role,
  Run,
  RunStatus,
  Sweep,
} from './entities.ts';
import type { RolloutStore } from '../rollouts/rollout-store.ts';

export interface TokenStore {
  create(t: { id: string; name: string; role: Role; hash: string }): Promise<ApiToken>;
  /** The live (not revoked) token whose hash matches, or null. */
  findByHash(hash: string): Promise<ApiToken | null>;
  list(): Promise<ApiToken[]>;
  revoke(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface DatasetStore {
  /** Idempotent: a digest already recorded under the same name is returned unchanged. */
  put(d: DatasetVersion): Promise<DatasetVersion>;
  get(digest: string): Promise<DatasetVersion | null>;
  /** Newest version with this name, or a version by digest (prefix of at least 8 allowed). */
  resolve(nameOrDigest: string): Promise<DatasetVersion | null>;
  list(): Promise<DatasetVersion[]>;
}

export interface RunStore {
  create(r: Run): Promise<Run>;
  get(id: string): Promise<Run | null>;
  list(filter?: { sweepId?: string; model?: string; limit?: number }): Promise<Run[]>;
  setStatus(id: string, status: RunStatus, patch?: Partial<Pick<Run, 'startedAt' | 'endedAt' | 'error' | 'environment'>>): Promise<void>;
  appendEpoch(id: string, e: EpochRecord): Promise<void>;
  finish(id: string, patch: { metrics: Record<string, unknown>; artifacts: Record<string, string> }): Promise<void>;
  /** Runs left 'queued' or 'running' by a previous process (marked failed on start). */
  listUnfinished(): Promise<Run[]>;
}

export interface ModelStore {
  /** Registers the next version of `model` (versions start at 1). */
  addVersion(v: Omit<ModelVersion, 'version' | 'aliases' | 'createdAt'>): Promise<ModelVersion>;
  getVersion(model: string, version: number): Promise<ModelVersion | null>;
  /** `name@3`, `name@champion`, or `name` (latest). */
  resolve(ref: string): Promise<ModelVersion | null>;
  listModels(): Promise<{ name: string; latestVersion: number; aliases: Record<string, number> }[]>;
  listVersions(model: string): Promise<ModelVersion[]>;
  setQuantization(model: string, version: number, q: Record<string, unknown>, artifacts: Record<string, string>): Promise<void>;
  /** Moves an alias atomically, recording the move; returns it. */
  moveAlias(m: Omit<AliasMove, 'fromVersion' | 'at'>): Promise<AliasMove>;
  aliasHistory(model: string): Promise<AliasMove[]>;
}

export interface SweepStore {
  create(s: Sweep): Promise<Sweep>;
  get(id: string): Promise<Sweep | null>;
  addRun(id: string, runId: string): Promise<void>;
  setStatus(id: string, status: Sweep['status']): Promise<void>;
}

export interface AuditStore {
  record(a: Omit<AuditRecord, 'id' | 'at'>): Promise<void>;
  list(filter?: { subject?: string; limit?: number }): Promise<AuditRecord[]>;
}

/** A page of devices; `next` is the cursor for the following page, null on the last. */
export interface DevicePage {
  devices: Device[];
  next: string | null;
}

export interface DeviceStore {
  /** Creates every device or none (a duplicate id fails the whole batch with DEVICE_EXISTS). */
  createMany(devices: NewDevice[]): Promise<Device[]>;
  /**
   * Deletes devices a bulk import created moments ago, with their labels and events: the import's undo when a
   * later batch fails, so an import stays all or none. A device that has ever connected or reported is kept.
   * Returns how many were deleted.
   */
  discardNew(ids: string[]): Promise<number>;
  get(id: string): Promise<Device | null>;
  /** Token hashes and revocation of a device, for authenticating it; null when unknown. */
  credential(id: string): Promise<DeviceCredential | null>;
  /**
   * Rotates each live device's token [WIRE-2.11]: the generation grows by one, the current hash becomes
   * the previous one (accepted until `previousUntil`), and `hashOf(id, generation)` the current one.
   * Revoked and unknown ids are skipped. Returns the rotated devices with their new generation.
   */
  rotateCredentials(
    ids: string[],
    previousUntil: string,
    hashOf: (id: string, generation: number) => string,
    at?: string,
  ): Promise<{ id: string; generation: number }[]>;
  /**
   * Live devices whose credential was issued before `before` (ISO), oldest first, at most `limit`: what a
   * scheduled rotation takes next. A credential never rotated dates from the device's creation.
   */
  credentialsDue(before: string, limit: number): Promise<string[]>;
  /** Ends a device's overlap window: its previous token is refused from now on. */
  endOverlap(id: string): Promise<void>;
  /** Pages by id (`after` is the last id of the previous page); `limit` defaults to 100, at most 1000. */
  list(filter?: DeviceFilter & { after?: string; limit?: number }): Promise<DevicePage>;
  count(filter?: DeviceFilter): Promise<number>;
  /** Replaces the given fields; null when the device is unknown. */
  update(
    id: string,
    patch: { name?: string; tags?: string[]; groups?: string[]; attributes?: Record<string, string> },
  ): Promise<Device | null>;
  /** Marks a device revoked; false when unknown or already revoked. */
  revoke(id: string): Promise<boolean>;
  /**
   * Records presence [WIRE-2.6]. With a session, the update applies only when it is at least the
   * stored session (so a stale will never wins); without one, it applies unconditionally. Returns
   * whether it applied.
   */
  setPresence(id: string, p: { online: boolean; session?: number; at: string }): Promise<boolean>;
  /** Last-seen times, written in one batch. */
  touch(seen: ReadonlyMap<string, string>): Promise<void>;
  setReported(id: string, reported: Record<string, unknown>, at: string): Promise<void>;
  /**
   * Atomically bumps the desired revision and stores what `make(rev)` returns, for each device that
   * exists and is not revoked; returns the stored states by device id.
   */
  setDesired(
    ids: string[],
    make: (rev: number, device: Device) => Record<string, unknown>,
    bundleId: string | null,
  ): Promise<Map<string, Record<string, unknown>>>;
  /** Live devices that have a desired state, paged by id (for re-publishing on start). */
  listDesired(after: string | null, limit: number): Promise<{ id: string; desired: Record<string, unknown> }[]>;
  /** Marks every device offline (on start: no connection survives a restart). */
  resetPresence(): Promise<void>;
  addEvent(e: Omit<DeviceEvent, 'id'>): Promise<void>;
  /** Adds events in one transaction, in order (a write-behind queue's flush, a stage's desired states). */
  addEvents(events: readonly Omit<DeviceEvent, 'id'>[]): Promise<void>;
  /**
   * Retention by age (the newest 500 per device are kept as events arrive): deletes up to `limit` of the
   * oldest events older than `before` (ISO) and returns how many went; a sweep calls again while it gets `limit`.
   */
  pruneEvents(before: string, limit: number): Promise<number>;
  /** Newest first; at most `limit` (default 50). The store keeps the newest 500 per device. */
  events(id: string, limit?: number): Promise<DeviceEvent[]>;
}

/** What the broker checks a device's token against. */
export interface DeviceCredential {
  tokenHash: string;
  revoked: boolean;
  groups: string[];
  /** Grows with every rotation; 0 for a token issued at provisioning (random, not derived). */
  generation: number;
  /** The token before the last rotation and when it stops being accepted (ISO), or null. */
  previousHash: string | null;
  previousUntil: string | null;
  /** When the current token was issued (ISO): the last rotation, enrollment or recovery, else the device's creation. */
  issuedAt: string;
  /** The device's enrolled public key (base64 raw Ed25519), or null for a device provisioned by hand. */
  publicKey: string | null;
}

/** One device's enrollment attempt, already checked for proof and shape by the service. */
export interface EnrollAttempt {
  enrollmentId: string;
  /** Now (ISO): the enrollment must not have expired by then. */
  at: string;
  /** The device to create when the serial is new (tokenHash is ignored: see `hashOf`). */
  device: Omit<NewDevice, 'tokenHash'>;
  serial: string;
  /** The device's public key (base64 raw Ed25519). */
  publicKey: string;
  /** The proof's timestamp (ms): must be newer than the last accepted one for this serial. */
  proofAt: number;
}

export type EnrollRefusal = 'unknown' | 'revoked' | 'expired' | 'quota' | 'key-mismatch' | 'replayed' | 'device-revoked' | 'id-taken';

/** A device's proof of possession of its enrolled key, to get a fresh credential without its claim. */
export interface RecoverAttempt {
  deviceId: string;
  /** Now (ISO). */
  at: string;
  /** The proof's timestamp (ms): must be newer than the last accepted one for this device. */
  proofAt: number;
}

export type RecoverRefusal = 'unknown' | 'device-revoked' | 'no-key' | 'proof-invalid' | 'replayed';

export type RecoverOutcome = { kind: 'recovered'; device: Device; generation: number } | { kind: 'refused'; reason: RecoverRefusal };

export type EnrollOutcome =
  { kind: 'created' | 'reenrolled'; device: Device; generation: number } | { kind: 'refused'; reason: EnrollRefusal };

export interface EnrollmentStore {
  /** Creates an enrollment; a taken name fails with ENROLLMENT_EXISTS. */
  create(e: NewEnrollment): Promise<Enrollment>;
  /** By id or by name, with the claim hash (for checking a presented claim). */
  get(idOrName: string): Promise<(Enrollment & { claimHash: string }) | null>;
  /** Newest first. */
  list(): Promise<Enrollment[]>;
  /** Stops the claim from enrolling anything more; false when unknown or already revoked. */
  revoke(id: string): Promise<boolean>;
  /**
   * In one transaction: checks the enrollment is live (not revoked, not expired at `at`), then either
   * re-enrolls the device of this serial (same key, or any key when the template allows it; the proof
   * must be newer than the last one) or creates it, counting it against the quota. Concurrent attempts
   * can never exceed the quota. `hashOf(id, generation)` gives the token hash to store.
   */
  enroll(a: EnrollAttempt, hashOf: (id: string, generation: number) => string): Promise<EnrollOutcome>;
  /**
   * In one transaction: a live device with a public key on record whose `verify(publicKey)` holds and whose
   * proof is newer than the last accepted one gets the next generation (no overlap: its old token is
   * refused from now on, which it is anyway). `verify` is synchronous and runs inside the transaction.
   */
  recover(
    a: RecoverAttempt,
    verify: (publicKey: string) => boolean,
    hashOf: (id: string, generation: number) => string,
  ): Promise<RecoverOutcome>;
}

export interface BundleStore {
  /** Stores a bundle; a second bundle with the same model and sequence fails with BUNDLE_SEQUENCE_TAKEN. */
  create(b: BundleRecord): Promise<BundleRecord>;
  /** By id, or by a unique id prefix of at least 8 characters. */
  get(idOrPrefix: string): Promise<BundleRecord | null>;
  /** Newest first. */
  list(filter?: { model?: string; limit?: number }): Promise<BundleRecord[]>;
  /** The sequence the next bundle of `model` gets: one more than the highest so far (1 for the first). */
  nextSequence(model: string): Promise<number>;
}

export interface Store {
  readonly kind: string;
  tokens: TokenStore;
  datasets: DatasetStore;
  runs: RunStore;
  models: ModelStore;
  sweeps: SweepStore;
  audit: AuditStore;
  devices: DeviceStore;
  enrollments: EnrollmentStore;
  bundles: BundleStore;
  rollouts: RolloutStore;
  close(): Promise<void>;
}
