// Errors of the device registry, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type DeviceErrorCode = 'DEVICE_ID_INVALID' | 'DEVICE_LABEL_INVALID' | 'DEVICE_NOT_FOUND' | 'DEVICE_CSV_INVALID' | 'DEVICE_BATCH_TOO_LARGE' | 'DEVICE_BROKER_SYNC_FAILED'
  | 'DEVICE_KEY_INVALID' | 'DEVICE_KEY_MISMATCH' | 'DEVICE_HOST_INVALID';

const STATUSES: Record<DeviceErrorCode, number> = {
  DEVICE_ID_INVALID: 400,
  DEVICE_LABEL_INVALID: 400,
  DEVICE_NOT_FOUND: 404,
  DEVICE_CSV_INVALID: 400,
  DEVICE_BATCH_TOO_LARGE: 413,
  // The broker refused the credentials change: a gateway failure, not the request's.
  DEVICE_BROKER_SYNC_FAILED: 502,
  DEVICE_KEY_INVALID: 400,
  DEVICE_KEY_MISMATCH: 409,
  DEVICE_HOST_INVALID: 400,
};

export class DeviceError extends DomainError<DeviceErrorCode> {
  static override readonly statuses = STATUSES;
}
