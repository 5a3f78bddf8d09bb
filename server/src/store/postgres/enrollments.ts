// PostgreSQL EnrollmentStore: see the SQLite one. The enrollment row is locked for the length of an
// attempt, so concurrent enrollments from several server processes can never exceed its quota.
import type { Enrollment, NewEnrollment } from '../entities.ts';
import { StoreError } from '../store-error.ts';
import type { EnrollAttempt, EnrollmentStore, EnrollOutcome, RecoverAttempt, RecoverOutcome } from '../store.ts';
import { type Pool, withTx } from './pg-db.ts';
import { iso, json, now, num, PG_COLUMNS, type Row, uniqueViolation } from './pg-values.ts';
import { toEnrollment as toEnrollmentOf } from '../entity-rows.ts';
import { toEntity, unique } from './devices.ts';

const toEnrollment = (r: Row): Enrollment => toEnrollmentOf(r, PG_COLUMNS);

export class PostgresEnrollmentStore implements EnrollmentStore {
  constructor(private readonly pool: Pool) {}

  async create(e: NewEnrollment): Promise<Enrollment> {
    try {
      await this.pool.query(
        'INSERT INTO enrollments (id, name, claim_hash, quota, expires_at, template, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)',
        [e.id, e.name, e.claimHash, e.quota, e.expiresAt, json(e.template), now(), e.createdBy],
      );
    } catch (err) {
      if (uniqueViolation(err)) throw new StoreError('ENROLLMENT_EXISTS', `an enrollment named '${e.name}' already exists`);
      throw err;
    }
    return (await this.get(e.id))!;
  }

  async get(idOrName: string): Promise<(Enrollment & { claimHash: string }) | null> {
    const r = (await this.pool.query('SELECT * FROM enrollments WHERE id = $1 OR name = $1', [idOrName])).rows[0];
    return r ? { ...toEnrollment(r), claimHash: r.claim_hash } : null;
  }

  async list(): Promise<Enrollment[]> {
    return (await this.pool.query('SELECT * FROM enrollments ORDER BY created_at DESC, id')).rows.map(toEnrollment);
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.pool.query('UPDATE enrollments SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now()]);
    return (r.rowCount ?? 0) > 0;
  }

  async enroll(a: EnrollAttempt, hashOf: (id: string, generation: number) => string): Promise<EnrollOutcome> {
    try {
      return await withTx(this.pool, async (c): Promise<EnrollOutcome> => {
        const e = (await c.query('SELECT * FROM enrollments WHERE id = $1 FOR UPDATE', [a.enrollmentId])).rows[0];
        if (!e) return { kind: 'refused', reason: 'unknown' };
        if (e.revoked_at != null) return { kind: 'refused', reason: 'revoked' };
        if (iso(e.expires_at) <= a.at) return { kind: 'refused', reason: 'expired' };
        const template = e.template as Enrollment['template'];
        const known = (await c.query('SELECT * FROM devices WHERE serial = $1 FOR UPDATE', [a.serial])).rows[0];
        if (known) {
          if (known.revoked_at != null) return { kind: 'refused', reason: 'device-revoked' };
          if (known.public_key !== a.publicKey && !template.allowReenroll) return { kind: 'refused', reason: 'key-mismatch' };
          if (known.proof_at != null && num(known.proof_at) >= a.proofAt) return { kind: 'refused', reason: 'replayed' };
          const generation = (known.credential_generation as number) + 1;
          const { rows } = await c.query(
            `UPDATE devices SET token_hash = $2, credential_generation = $3, public_key = $4, proof_at = $5, prev_token_hash = NULL, prev_token_until = NULL,
               credential_at = $6 WHERE id = $1 RETURNING *`,
            [known.id, hashOf(known.id, generation), generation, a.publicKey, a.proofAt, a.at],
          );
          return { kind: 'reenrolled', device: toEntity(rows[0]!), generation };
        }
        if ((await c.query('SELECT 1 FROM devices WHERE id = $1', [a.device.id])).rows.length)
          return { kind: 'refused', reason: 'id-taken' };
        if ((e.used as number) >= (e.quota as number)) return { kind: 'refused', reason: 'quota' };
        const d = a.device;
        const { rows } = await c.query(
          `INSERT INTO devices (id, token_hash, name, tags, groups, attributes, created_at, credential_generation, serial, public_key, enrollment_id, proof_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 1, $8, $9, $10, $11) RETURNING *`,
          [
            d.id,
            hashOf(d.id, 1),
            d.name ?? d.id,
            unique(d.tags),
            unique(d.groups),
            json(d.attributes ?? {}),
            a.at,
            a.serial,
            a.publicKey,
            a.enrollmentId,
            a.proofAt,
          ],
        );
        await c.query('UPDATE enrollments SET used = used + 1 WHERE id = $1', [a.enrollmentId]);
        return { kind: 'created', device: toEntity(rows[0]!), generation: 1 };
      });
    } catch (err) {
      // Two first enrollments of one serial at once: the loser sees the winner's row on its next try.
      if (uniqueViolation(err)) return { kind: 'refused', reason: 'replayed' };
      throw err;
    }
  }

  async recover(
    a: RecoverAttempt,
    verify: (publicKey: string) => boolean,
    hashOf: (id: string, generation: number) => string,
  ): Promise<RecoverOutcome> {
    return withTx(this.pool, async (c): Promise<RecoverOutcome> => {
      const d = (await c.query('SELECT * FROM devices WHERE id = $1 FOR UPDATE', [a.deviceId])).rows[0];
      if (!d) return { kind: 'refused', reason: 'unknown' };
      if (d.revoked_at != null) return { kind: 'refused', reason: 'device-revoked' };
      if (typeof d.public_key !== 'string') return { kind: 'refused', reason: 'no-key' };
      if (!verify(d.public_key)) return { kind: 'refused', reason: 'proof-invalid' };
      if (d.proof_at != null && num(d.proof_at) >= a.proofAt) return { kind: 'refused', reason: 'replayed' };
      const generation = (d.credential_generation as number) + 1;
      const { rows } = await c.query(
        `UPDATE devices SET token_hash = $2, credential_generation = $3, proof_at = $4, prev_token_hash = NULL, prev_token_until = NULL, credential_at = $5
         WHERE id = $1 RETURNING *`,
        [a.deviceId, hashOf(a.deviceId, generation), generation, a.proofAt, a.at],
      );
      return { kind: 'recovered', device: toEntity(rows[0]!), generation };
    });
  }
}
