// Errors a store raises for conflicts the caller can act on; `code` is stable, `status` is the HTTP mapping.
import { DomainError } from '../errors/domain-error.ts';

export type StoreErrorCode = 'DEVICE_EXISTS' | 'BUNDLE_SEQUENCE_TAKEN' | 'BUNDLE_EXISTS' | 'ENROLLMENT_EXISTS';

const STATUSES: Record<StoreErrorCode, number> = {
  DEVICE_EXISTS: 409,
  BUNDLE_SEQUENCE_TAKEN: 409,
  BUNDLE_EXISTS: 409,
  ENROLLMENT_EXISTS: 409,
};

export class StoreError extends DomainError<StoreErrorCode> {
  static override readonly statuses = STATUSES;
}
