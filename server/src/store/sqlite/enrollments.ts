// SQLite EnrollmentStore: claims with a quota, expiry and template, and the one transaction that turns a
// claim plus a device's proof into a device (or re-enrolls the device of a known serial).
import type { Enrollment, NewEnrollment } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { EnrollAttempt, EnrollmentStore, EnrollOutcome, RecoverAttempt, RecoverOutcome } from '../store.ts';
import { toEnrollment as toEnrollmentOf } from '../entity-rows.ts';
import { type Db, json, now, parse, SQLITE_COLUMNS } from './db.ts';
import { type SqliteDeviceStore, toEntity, unique } from './devices.ts';

type Row = Record<string, unknown>;

const toEnrollment = (r: Row): Enrollment => toEnrollmentOf(r, SQLITE_COLUMNS);

export class SqliteEnrollmentStore implements EnrollmentStore {
  constructor(
    private readonly db: Db,
    private readonly devices: SqliteDeviceStore,
  ) {}

  async create(e: NewEnrollment): Promise<Enrollment> {
    if (this.db.prepare('SELECT 1 FROM enrollments WHERE name = ?').get(e.name))
      throw new StoreError('ENROLLMENT_EXISTS', `an enrollment named '${e.name}' already exists`);
    this.db
      .prepare(
        'INSERT INTO enrollments (id, name, claim_hash, quota, expires_at, template, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(e.id, e.name, e.claimHash, e.quota, e.expiresAt, json(e.template), now(), e.createdBy);
    return (await this.get(e.id))!;
  }

  async get(idOrName: string): Promise<(Enrollment & { claimHash: string }) | null> {
    const r = this.db.prepare('SELECT * FROM enrollments WHERE id = ? OR name = ?').get(idOrName, idOrName) as Row | undefined;
    return r ? { ...toEnrollment(r), claimHash: r.claim_hash as string } : null;
  }

  async list(): Promise<Enrollment[]> {
    return (this.db.prepare('SELECT * FROM enrollments ORDER BY created_at DESC, id').all() as Row[]).map(toEnrollment);
  }

  async revoke(id: string): Promise<boolean> {
    return this.db.prepare('UPDATE enrollments SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now(), id).changes > 0;
  }

  async enroll(a: EnrollAttempt, hashOf: (id: string, generation: number) => string): Promise<EnrollOutcome> {
    // better-sqlite3 transactions are synchronous and the database has one writer: nothing interleaves.
    return this.db.transaction((): EnrollOutcome => {
      const e = this.db.prepare('SELECT * FROM enrollments WHERE id = ?').get(a.enrollmentId) as Row | undefined;
      if (!e) return { kind: 'refused', reason: 'unknown' };
      if (e.revoked_at != null) return { kind: 'refused', reason: 'revoked' };
      if ((e.expires_at as string) <= a.at) return { kind: 'refused', reason: 'expired' };
      const template = parse<Enrollment['template']>(e.template);
      const known = this.db.prepare('SELECT * FROM devices WHERE serial = ?').get(a.serial) as Row | undefined;
      if (known) {
        if (known.revoked_at != null) return { kind: 'refused', reason: 'device-revoked' };
        if (known.public_key !== a.publicKey && !template.allowReenroll) return { kind: 'refused', reason: 'key-mismatch' };
        if ((known.proof_at as number | null) !== null && (known.proof_at as number) >= a.proofAt)
          return { kind: 'refused', reason: 'replayed' };
        const generation = (known.credential_generation as number) + 1;
        this.db
          .prepare(
            `UPDATE devices SET token_hash = ?, credential_generation = ?, public_key = ?, proof_at = ?, prev_token_hash = NULL,
          prev_token_until = NULL, credential_at = ? WHERE id = ?`,
          )
          .run(hashOf(known.id as string, generation), generation, a.publicKey, a.proofAt, a.at, known.id);
        return {
          kind: 'reenrolled',
          device: toEntity(this.db.prepare('SELECT * FROM devices WHERE id = ?').get(known.id) as Row),
          generation,
        };
      }
      if (this.db.prepare('SELECT 1 FROM devices WHERE id = ?').get(a.device.id)) return { kind: 'refused', reason: 'id-taken' };
      if ((e.used as number) >= (e.quota as number)) return { kind: 'refused', reason: 'quota' };
      const d = a.device;
      const tags = unique(d.tags);
      const groups = unique(d.groups);
      this.db
        .prepare(
          `INSERT INTO devices (id, token_hash, name, tags, groups, attributes, created_at, credential_generation, serial, public_key,
        enrollment_id, proof_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
        )
        .run(
          d.id,
          hashOf(d.id, 1),
          d.name ?? d.id,
          json(tags),
          json(groups),
          json(d.attributes ?? {}),
          a.at,
          a.serial,
          a.publicKey,
          a.enrollmentId,
          a.proofAt,
        );
      this.devices.writeLabels(d.id, tags, groups);
      this.db.prepare('UPDATE enrollments SET used = used + 1 WHERE id = ?').run(a.enrollmentId);
      return { kind: 'created', device: toEntity(this.db.prepare('SELECT * FROM devices WHERE id = ?').get(d.id) as Row), generation: 1 };
    })();
  }

  async recover(
    a: RecoverAttempt,
    verify: (publicKey: string) => boolean,
    hashOf: (id: string, generation: number) => string,
  ): Promise<RecoverOutcome> {
    return this.db.transaction((): RecoverOutcome => {
      const d = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(a.deviceId) as Row | undefined;
      if (!d) return { kind: 'refused', reason: 'unknown' };
      if (d.revoked_at != null) return { kind: 'refused', reason: 'device-revoked' };
      if (typeof d.public_key !== 'string') return { kind: 'refused', reason: 'no-key' };
      if (!verify(d.public_key)) return { kind: 'refused', reason: 'proof-invalid' };
      if (d.proof_at != null && (d.proof_at as number) >= a.proofAt) return { kind: 'refused', reason: 'replayed' };
      const generation = (d.credential_generation as number) + 1;
      this.db
        .prepare(
          `UPDATE devices SET token_hash = ?, credential_generation = ?, proof_at = ?, prev_token_hash = NULL, prev_token_until = NULL,
        credential_at = ? WHERE id = ?`,
        )
        .run(hashOf(a.deviceId, generation), generation, a.proofAt, a.at, a.deviceId);
      return {
        kind: 'recovered',
        device: toEntity(this.db.prepare('SELECT * FROM devices WHERE id = ?').get(a.deviceId) as Row),
        generation,
      };
    })();
  }
}
