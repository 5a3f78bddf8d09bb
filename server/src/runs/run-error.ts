// Errors of training runs and sweeps, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type RunErrorCode = 'NOT_FOUND' | 'INVALID_MODEL_SPEC' | 'INVALID_HYPERPARAMETERS' | 'INVALID_MODEL_NAME' | 'INVALID_SWEEP' | 'RUN_FINISHED';

const STATUSES: Record<RunErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_MODEL_SPEC: 400,
  INVALID_HYPERPARAMETERS: 400,
  INVALID_MODEL_NAME: 400,
  INVALID_SWEEP: 400,
  RUN_FINISHED: 409,
};

export class RunError extends DomainError<RunErrorCode> {
  static override readonly statuses = STATUSES;
}
