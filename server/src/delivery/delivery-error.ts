// Errors of bundle making and delivery, with stable codes and the HTTP status the API answers with.

export type DeliveryErrorCode =
  | 'MODEL_VERSION_NOT_FOUND' | 'BUNDLE_ARTIFACT_MISSING' | 'BUNDLE_NOT_FOUND' | 'BLOB_MISSING' | 'DEVICE_IDS_INVALID'
  | 'PARITY_GATE_FAILED' | 'SHADOW_RATE_INVALID';

export class DeliveryError extends Error {
  constructor(readonly code: DeliveryErrorCode, message: string, readonly status = 400) {
    super(message);
    this.name = 'DeliveryError';
  }
}
