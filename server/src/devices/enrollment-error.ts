// Errors of enrollment by claim, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type EnrollmentErrorCode =
  | 'ENROLLMENT_INPUT_INVALID'
  | 'ENROLLMENT_NOT_FOUND'
  | 'ENROLLMENT_CLAIM_INVALID'
  | 'ENROLLMENT_EXPIRED'
  | 'ENROLLMENT_REVOKED'
  | 'ENROLLMENT_QUOTA_EXHAUSTED'
  | 'ENROLLMENT_PROOF_INVALID'
  | 'ENROLLMENT_PROOF_STALE'
  | 'ENROLLMENT_REPLAYED'
  | 'ENROLLMENT_KEY_MISMATCH'
  | 'ENROLLMENT_SERIAL_REFUSED'
  | 'ENROLLMENT_DEVICE_REVOKED'
  | 'ENROLLMENT_ID_TAKEN'
  | 'ENROLLMENT_NO_DEVICE_KEY';

const STATUSES: Record<EnrollmentErrorCode, number> = {
  ENROLLMENT_INPUT_INVALID: 400,
  ENROLLMENT_NOT_FOUND: 404,
  // The claim is the credential of this route: a wrong one is an authentication failure.
  ENROLLMENT_CLAIM_INVALID: 401,
  ENROLLMENT_EXPIRED: 403,
  ENROLLMENT_REVOKED: 403,
  ENROLLMENT_QUOTA_EXHAUSTED: 403,
  ENROLLMENT_PROOF_INVALID: 401,
  ENROLLMENT_PROOF_STALE: 401,
  ENROLLMENT_REPLAYED: 409,
  ENROLLMENT_KEY_MISMATCH: 409,
  ENROLLMENT_SERIAL_REFUSED: 403,
  ENROLLMENT_DEVICE_REVOKED: 403,
  ENROLLMENT_ID_TAKEN: 409,
  // A device provisioned by hand (devices add) has no key on record: it cannot recover by itself.
  ENROLLMENT_NO_DEVICE_KEY: 409,
};

export class EnrollmentError extends DomainError<EnrollmentErrorCode> {
  static override readonly statuses = STATUSES;
}
