// Errors the training core throws; each carries a stable `code` that callers match on.

/** A model spec or hyperparameter set failed validation; `errors` lists every problem found. */
export class ModelSpecError extends Error {
  readonly code = 'INVALID_MODEL_SPEC';
  constructor(readonly errors: string[]) {
    super(`invalid model spec: ${errors.join('; ')}`);
    this.name = 'ModelSpecError';
  }
}

/** Hyperparameters failed validation; `errors` lists every problem found. */
export class HyperparamsError extends Error {
  readonly code = 'INVALID_HYPERPARAMETERS';
  constructor(readonly errors: string[]) {
    super(`invalid hyperparameters: ${errors.join('; ')}`);
    this.name = 'HyperparamsError';
  }
}

/** A dataset does not fit the model or is internally inconsistent. */
export class DatasetError extends Error {
  readonly code = 'INVALID_DATASET';
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** No TensorFlow.js backend could be started (or the one demanded with `strict` could not). */
export class BackendUnavailableError extends Error {
  readonly code = 'BACKEND_UNAVAILABLE';
  constructor(message: string, readonly skipped: { name: string; reason: string }[]) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}
