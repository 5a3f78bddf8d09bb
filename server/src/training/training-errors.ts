// Errors the training core throws; each carries a stable `code` that callers match on and the HTTP
// status the API answers with (400: each names a problem with what the caller asked for).
import { DomainError } from '../errors/domain-error.ts';

/** A model spec or hyperparameter set failed validation; `errors` lists every problem found. */
export class ModelSpecError extends DomainError<'INVALID_MODEL_SPEC'> {
  constructor(readonly errors: string[]) {
    super('INVALID_MODEL_SPEC', `invalid model spec: ${errors.join('; ')}`, undefined, 400);
  }
}

/** Hyperparameters failed validation; `errors` lists every problem found. */
export class HyperparamsError extends DomainError<'INVALID_HYPERPARAMETERS'> {
  constructor(readonly errors: string[]) {
    super('INVALID_HYPERPARAMETERS', `invalid hyperparameters: ${errors.join('; ')}`, undefined, 400);
  }
}

/** A dataset does not fit the model or is internally inconsistent (datasets/ refuses bad files with its own DatasetError). */
export class DatasetFitError extends DomainError<'INVALID_DATASET'> {
  constructor(message: string) {
    super('INVALID_DATASET', message, undefined, 400);
  }
}

/** No TensorFlow.js backend could be started (or the one demanded with `strict` could not). */
export class BackendUnavailableError extends DomainError<'BACKEND_UNAVAILABLE'> {
  constructor(
    message: string,
    readonly skipped: { name: string; reason: string }[],
  ) {
    super('BACKEND_UNAVAILABLE', message, undefined, 400);
  }
}
