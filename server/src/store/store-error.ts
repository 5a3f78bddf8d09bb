// Errors a store raises for conflicts the caller can act on; `code` is stable, `status` is the HTTP mapping.

export type StoreErrorCode = 'DEVICE_EXISTS' | 'BUNDLE_SEQUENCE_TAKEN' | 'BUNDLE_EXISTS';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** HTTP status the API answers with (409 for every conflict so far). */
    readonly status = 409,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
