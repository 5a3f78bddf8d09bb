// Errors of bundle making and delivery, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type DeliveryErrorCode =
  | 'MODEL_VERSION_NOT_FOUND'
  | 'BUNDLE_ARTIFACT_MISSING'
  | 'BUNDLE_NOT_FOUND'
  | 'BLOB_MISSING'
  | 'DEVICE_IDS_INVALID'
  | 'PARITY_GATE_FAILED'
  | 'SHADOW_RATE_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_ACTIVE'
  | 'KEY_LAST'
  | 'KEY_RING_FULL'
  | 'KEY_THRESHOLD_INVALID'
  | 'KEY_SIGNERS_MISSING'
  | 'KEY_STATE_INVALID';

const STATUSES: Record<DeliveryErrorCode, number> = {
  MODEL_VERSION_NOT_FOUND: 404,
  BUNDLE_ARTIFACT_MISSING: 409,
  BUNDLE_NOT_FOUND: 404,
  // A blob the store lists but cannot read: the server's fault, not the request's.
  BLOB_MISSING: 500,
  DEVICE_IDS_INVALID: 400,
  PARITY_GATE_FAILED: 409,
  SHADOW_RATE_INVALID: 400,
  // Trust rotation (key-ring.ts): refusals that leave the trusted keys as they were.
  KEY_NOT_FOUND: 404,
  KEY_ACTIVE: 409,
  KEY_LAST: 409,
  KEY_RING_FULL: 409,
  KEY_THRESHOLD_INVALID: 400,
  KEY_SIGNERS_MISSING: 409,
  // The server's own key folder is damaged: not the request's fault.
  KEY_STATE_INVALID: 500,
};

export class DeliveryError extends DomainError<DeliveryErrorCode> {
  static override readonly statuses = STATUSES;
}
