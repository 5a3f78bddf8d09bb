// Errors of retraining, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type RetrainingErrorCode = 'NOT_FOUND' | 'INVALID_RETRAINING_POLICY' | 'INT8_MISSING' | 'NO_CHAMPION' | 'RETRAIN_RUN_FAILED' | 'CHALLENGER_NOT_REGISTERED';

const STATUSES: Record<RetrainingErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_RETRAINING_POLICY: 400,
  INT8_MISSING: 409,
  NO_CHAMPION: 409,
  RETRAIN_RUN_FAILED: 409,
  CHALLENGER_NOT_REGISTERED: 409,
};

export class RetrainingError extends DomainError<RetrainingErrorCode> {
  static override readonly statuses = STATUSES;
}
