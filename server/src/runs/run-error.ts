// Errors of training runs and sweeps, with stable codes and the HTTP status the API answers with.
import { DomainError, statusTable } from '../errors/domain-error.ts';

const STATUSES = statusTable({
  400: ['INVALID_MODEL_SPEC', 'INVALID_HYPERPARAMETERS', 'INVALID_MODEL_NAME', 'INVALID_SWEEP'],
  404: ['NOT_FOUND'],
  409: ['RUN_FINISHED'],
});

export type RunErrorCode = keyof typeof STATUSES;

export class RunError extends DomainError<RunErrorCode> {
  static override readonly statuses = STATUSES;
}
