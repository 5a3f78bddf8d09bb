// Errors of retraining, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type RetrainingErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_RETRAINING_POLICY'
  | 'INT8_MISSING'
  | 'NO_CHAMPION'
  | 'RETRAIN_RUN_FAILED'
  | 'CHALLENGER_NOT_REGISTERED'
  | 'TRAINER_TIMEOUT'
  | 'TRAINER_FAILED'
  | 'TRAINER_NO_OUTPUT'
  | 'TRAINER_OUTPUT_INVALID'
  | 'TRAINER_SIGNATURE_MISMATCH'
  | 'TRAINER_TOKEN_INVALID';

const STATUSES: Record<RetrainingErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_RETRAINING_POLICY: 400,
  INT8_MISSING: 409,
  NO_CHAMPION: 409,
  RETRAIN_RUN_FAILED: 409,
  CHALLENGER_NOT_REGISTERED: 409,
  // An outside trainer's failures end a background job; the statuses matter only if one reaches a route.
  TRAINER_TIMEOUT: 409,
  TRAINER_FAILED: 409,
  TRAINER_NO_OUTPUT: 409,
  TRAINER_OUTPUT_INVALID: 409,
  TRAINER_SIGNATURE_MISMATCH: 409,
  // A trainer's download with a missing, wrong or expired job token (GET /retraining/jobs/{id}/files/{name}).
  TRAINER_TOKEN_INVALID: 401,
};

export class RetrainingError extends DomainError<RetrainingErrorCode> {
  static override readonly statuses = STATUSES;
}
