// Enrollment by claim: an operator creates a claim (quota, expiry, template); a device presents it once
// with a key pair it made itself and a proof of possession, and gets its own identity and token. The
// claim can do nothing else: only POST /enroll takes it.
import { createHash, createPublicKey, randomBytes, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import {
  CLAIM,
  ENROLL_CLOCK_SKEW_MS,
  enrollProofMessage,
  recoverProofMessage,
  type EnrollRequest,
  type RecoverRequest,
} from '@flotilla/firmware-bundler/wire';
import type { CredentialSync } from '../broker/broker-link.ts';
import type { Logger } from '../log/logger.ts';
import type { Enrollment, EnrollmentTemplate } from '../store/entities.ts';
import type { EnrollRefusal, RecoverRefusal, Store } from '../store/store.ts';
import type { CredentialKey } from './credential-key.ts';
import { LABEL } from './device-credentials.ts';
import { EnrollmentError } from './enrollment-error.ts';

export interface CreateEnrollmentInput {
  name: string;
  quota: number;
  /** Lifetime in ms from now. */
  expiresInMs: number;
  tags?: string[];
  groups?: string[];
  attributes?: Record<string, string>;
  serialPattern?: string | null;
  allowReenroll?: boolean;
}

/** What a device receives: its id and first token (derived, generation 1 or more). */
export interface Enrolled {
  deviceId: string;
  token: string;
  generation: number;
  reenrolled: boolean;
}

/** Bounds an operator's input, so no enrollment row can be huge. */
const LIMITS = { quota: 1_000_000, expiresMs: 10 * 365 * 86_400_000, labels: 32, attributes: 32, attributeChars: 256, patternChars: 128 };
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** DER header of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const REFUSALS: Record<EnrollRefusal, () => EnrollmentError> = {
  unknown: () => new EnrollmentError('ENROLLMENT_CLAIM_INVALID', 'the claim is not valid: ask the operator for the current claim'),
  revoked: () => new EnrollmentError('ENROLLMENT_REVOKED', 'this claim was revoked: ask the operator for a new one'),
  expired: () => new EnrollmentError('ENROLLMENT_EXPIRED', 'this claim has expired: ask the operator for a new one'),
  quota: () =>
    new EnrollmentError(
      'ENROLLMENT_QUOTA_EXHAUSTED',
      'this claim has enrolled as many devices as its quota allows: the operator can create another enrollment',
    ),
  'key-mismatch': () =>
    new EnrollmentError(
      'ENROLLMENT_KEY_MISMATCH',
      'this serial is already enrolled with another key; the operator must allow re-enrollment (--allow-reenroll) or revoke the old device',
    ),
  replayed: () =>
    new EnrollmentError(
      'ENROLLMENT_REPLAYED',
      'this proof is not newer than the last one accepted for this serial: sign a fresh timestamp',
    ),
  'device-revoked': () => new EnrollmentError('ENROLLMENT_DEVICE_REVOKED', 'the device of this serial was revoked and cannot enroll again'),
  'id-taken': () =>
    new EnrollmentError('ENROLLMENT_ID_TAKEN', 'a device provisioned by hand already has this id; enroll with another serial'),
};

/** What a recovering device receives: its fresh token and generation. */
export interface Recovered {
  deviceId: string;
  token: string;
  generation: number;
}

const RECOVER_REFUSALS: Record<RecoverRefusal, () => EnrollmentError> = {
  // An unknown device and a wrong signature answer alike: the route does not tell which device ids exist.
  unknown: () =>
    new EnrollmentError(
      'ENROLLMENT_PROOF_INVALID',
      'the proof does not verify with the key on record for this device: sign the recovery message with the enrolled device key',
    ),
  'proof-invalid': () =>
    new EnrollmentError(
      'ENROLLMENT_PROOF_INVALID',
      'the proof does not verify with the key on record for this device: sign the recovery message with the enrolled device key',
    ),
  'device-revoked': () => new EnrollmentError('ENROLLMENT_DEVICE_REVOKED', 'this device was revoked and cannot get a new credential'),
  'no-key': () =>
    new EnrollmentError(
      'ENROLLMENT_NO_DEVICE_KEY',
      'this device was provisioned by hand and has no key on record: the operator gives it a new token (devices rotate while it is connected, or re-provision it)',
    ),
  replayed: () =>
    new EnrollmentError(
      'ENROLLMENT_REPLAYED',
      'this proof is not newer than the last one accepted for this device: sign a fresh timestamp',
    ),
};

export class EnrollmentService {
  constructor(
    private readonly deps: { store: Store; log: Logger; key: CredentialKey; sync: () => CredentialSync | undefined; now?: () => number },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Creates an enrollment and its claim; the claim exists only in the answer (the store keeps its hash). */
  async create(input: CreateEnrollmentInput, actor: string): Promise<{ enrollment: Enrollment; claim: string }> {
    const bad = (m: string) => new EnrollmentError('ENROLLMENT_INPUT_INVALID', m);
    if (!NAME.test(input.name)) throw bad('name must be 1-64 characters of letters, digits, _ . -');
    if (!Number.isSafeInteger(input.quota) || input.quota < 1 || input.quota > LIMITS.quota)
      throw bad(`quota must be an integer from 1 to ${LIMITS.quota}`);
    if (!(input.expiresInMs > 0) || input.expiresInMs > LIMITS.expiresMs)
      throw bad('expiry must be in the future and at most 10 years away');
    const template: EnrollmentTemplate = {
      tags: labels(input.tags, 'tag'),
      groups: labels(input.groups, 'group'),
      attributes: attributes(input.attributes),
      serialPattern: pattern(input.serialPattern ?? null),
      allowReenroll: input.allowReenroll === true,
    };
    const id = `enr-${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    const enrollment = await this.deps.store.enrollments.create({
      id,
      name: input.name,
      claimHash: sha256(secret),
      quota: input.quota,
      expiresAt: new Date(this.now() + input.expiresInMs).toISOString(),
      template,
      createdBy: actor,
    });
    await this.deps.store.audit.record({
      actor,
      action: 'enrollment.create',
      subject: id,
      detail: { name: input.name, quota: input.quota, expiresAt: enrollment.expiresAt },
    });
    return { enrollment, claim: `fec_${id}.${secret}` };
  }

  list(): Promise<Enrollment[]> {
    return this.deps.store.enrollments.list();
  }

  async show(idOrName: string): Promise<Enrollment> {
    const e = await this.deps.store.enrollments.get(idOrName);
    if (!e) throw new EnrollmentError('ENROLLMENT_NOT_FOUND', `enrollment '${idOrName.slice(0, 80)}' was not found`);
    const { claimHash: _, ...rest } = e;
    return rest;
  }

  /** The claim stops working at once; devices it enrolled keep their identities. */
  async revoke(idOrName: string, actor: string): Promise<Enrollment> {
    const e = await this.show(idOrName);
    if (await this.deps.store.enrollments.revoke(e.id))
      await this.deps.store.audit.record({ actor, action: 'enrollment.revoke', subject: e.id, detail: { name: e.name } });
    return this.show(e.id);
  }

  /**
   * A device's first start: checks the claim, the proof's freshness and signature, the serial pattern,
   * then lets the store create (or re-enroll) the device atomically against the quota.
   */
  async enroll(claim: string, body: EnrollRequest): Promise<Enrolled> {
    const m = CLAIM.exec(claim);
    if (!m) throw REFUSALS.unknown();
    const [, enrollmentId, secret] = m as unknown as [string, string, string];
    const e = await this.deps.store.enrollments.get(enrollmentId);
    if (!e || e.id !== enrollmentId || !sameHash(e.claimHash, sha256(secret))) throw REFUSALS.unknown();
    if (e.revokedAt) throw REFUSALS.revoked();
    const now = this.now();
    if (Date.parse(e.expiresAt) <= now) throw REFUSALS.expired();
    if (Math.abs(now - body.timestamp) > ENROLL_CLOCK_SKEW_MS) {
      throw new EnrollmentError(
        'ENROLLMENT_PROOF_STALE',
        `the proof's timestamp is more than ${ENROLL_CLOCK_SKEW_MS / 60_000} minutes from the server's clock: set the device's clock and sign again`,
      );
    }
    if (e.template.serialPattern && !globToRegExp(e.template.serialPattern).test(body.serial)) {
      throw new EnrollmentError(
        'ENROLLMENT_SERIAL_REFUSED',
        `serial '${body.serial}' does not match this claim's pattern '${e.template.serialPattern}'`,
      );
    }
    if (!proofVerifies(enrollmentId, body))
      throw new EnrollmentError(
        'ENROLLMENT_PROOF_INVALID',
        'the proof does not verify with the given public key: sign the enrollment message with the device key',
      );
    const at = new Date(now).toISOString();
    const t = e.template;
    const out = await this.deps.store.enrollments.enroll(
      {
        enrollmentId,
        at,
        serial: body.serial,
        publicKey: body.publicKey,
        proofAt: body.timestamp,
        device: { id: body.serial, name: body.serial, tags: t.tags, groups: t.groups, attributes: t.attributes },
      },
      (id, generation) => this.deps.key.hash(id, generation),
    );
    if (out.kind === 'refused') throw REFUSALS[out.reason]();
    const token = this.deps.key.token(out.device.id, out.generation);
    const sync = this.deps.sync();
    if (sync) {
      // An external broker needs the token itself; a broker that refuses it leaves the device unusable, so say so.
      try {
        if (out.kind === 'created') await sync.provisioned([{ deviceId: out.device.id, token, groups: out.device.groups }]);
        else await sync.rotated([{ deviceId: out.device.id, token, generation: out.generation }]);
      } catch (err) {
        this.deps.log.warn('broker did not take an enrolled device credential; the device retries enrollment', {
          device: out.device.id,
          err: String((err as Error).message),
        });
      }
    }
    await this.deps.store.devices.addEvent({
      deviceId: out.device.id,
      at,
      kind: out.kind === 'created' ? 'enrolled' : 'reenrolled',
      detail: { enrollment: enrollmentId, generation: out.generation },
    });
    return { deviceId: out.device.id, token, generation: out.generation, reenrolled: out.kind === 'reenrolled' };
  }

  /**
   * [WIRE-3.5] An enrolled device whose token is refused (offline past its overlap window) proves it still
   * holds the key it enrolled with and gets a fresh token: no claim, no operator. Only the key on record for
   * that device verifies; a revoked device, a device without a key, a stale or replayed proof is refused.
   */
  async recover(body: RecoverRequest): Promise<Recovered> {
    const now = this.now();
    if (Math.abs(now - body.timestamp) > ENROLL_CLOCK_SKEW_MS) {
      throw new EnrollmentError(
        'ENROLLMENT_PROOF_STALE',
        `the proof's timestamp is more than ${ENROLL_CLOCK_SKEW_MS / 60_000} minutes from the server's clock: set the device's clock and sign again`,
      );
    }
    const at = new Date(now).toISOString();
    const out = await this.deps.store.enrollments.recover(
      { deviceId: body.deviceId, at, proofAt: body.timestamp },
      (publicKey) => recoverProofVerifies(publicKey, body),
      (id, g) => this.deps.key.hash(id, g),
    );
    if (out.kind === 'refused') throw RECOVER_REFUSALS[out.reason]();
    const token = this.deps.key.token(out.device.id, out.generation);
    try {
      await this.deps.sync()?.rotated([{ deviceId: out.device.id, token, generation: out.generation }]);
    } catch (err) {
      this.deps.log.warn('broker did not take a recovered device credential; the device retries', {
        device: out.device.id,
        err: String((err as Error).message),
      });
    }
    await this.deps.store.devices.addEvent({ deviceId: out.device.id, at, kind: 'recovered', detail: { generation: out.generation } });
    return { deviceId: out.device.id, token, generation: out.generation };
  }
}

function recoverProofVerifies(publicKey: string, b: RecoverRequest): boolean {
  const raw = Buffer.from(publicKey, 'base64');
  const sig = Buffer.from(b.proof, 'base64');
  if (raw.length !== 32 || sig.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    return verifySignature(null, recoverProofMessage(b.deviceId, b.timestamp), key, sig);
  } catch {
    return false;
  }
}

function proofVerifies(enrollmentId: string, b: EnrollRequest): boolean {
  const raw = Buffer.from(b.publicKey, 'base64');
  const sig = Buffer.from(b.proof, 'base64');
  if (raw.length !== 32 || sig.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    return verifySignature(null, enrollProofMessage(enrollmentId, b.serial, b.publicKey, b.timestamp), key, sig);
  } catch {
    return false;
  }
}

/** `CAR-*` → /^CAR-[A-Za-z0-9_-]*$/: `*` any run of id characters, `?` one. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[A-Za-z0-9_-]*')
      .replace(/\?/g, '[A-Za-z0-9_-]')}$`,
  );
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function labels(xs: string[] | undefined, what: string): string[] {
  const list = xs ?? [];
  if (list.length > LIMITS.labels) throw new EnrollmentError('ENROLLMENT_INPUT_INVALID', `at most ${LIMITS.labels} ${what}s`);
  for (const l of list)
    if (!LABEL.test(l))
      throw new EnrollmentError(
        'ENROLLMENT_INPUT_INVALID',
        `${what} '${l.slice(0, 80)}' must be 1-64 characters of letters, digits, '_', '.', '-'`,
      );
  return [...new Set(list)].sort();
}

function attributes(a: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(a ?? {});
  if (entries.length > LIMITS.attributes) throw new EnrollmentError('ENROLLMENT_INPUT_INVALID', `at most ${LIMITS.attributes} attributes`);
  for (const [k, v] of entries) {
    if (!LABEL.test(k) || typeof v !== 'string' || v.length > LIMITS.attributeChars)
      throw new EnrollmentError(
        'ENROLLMENT_INPUT_INVALID',
        `attribute '${k.slice(0, 80)}': names are labels, values at most ${LIMITS.attributeChars} characters`,
      );
  }
  return Object.fromEntries(entries);
}

function pattern(p: string | null): string | null {
  if (p === null || p === '') return null;
  if (p.length > LIMITS.patternChars || !/^[A-Za-z0-9_*?-]+$/.test(p))
    throw new EnrollmentError(
      'ENROLLMENT_INPUT_INVALID',
      `serial pattern must be at most ${LIMITS.patternChars} characters of letters, digits, _ - and the wildcards * ?`,
    );
  return p;
}
