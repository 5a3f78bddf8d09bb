// Errors of the device registry, with stable codes and the HTTP status the API answers with.
import { DomainError, statusTable } from '../errors/domain-error.ts';

const STATUSES = statusTable({
  400: ['DEVICE_ID_INVALID', 'DEVICE_LABEL_INVALID', 'DEVICE_CSV_INVALID', 'DEVICE_KEY_INVALID', 'DEVICE_HOST_INVALID'],
  404: ['DEVICE_NOT_FOUND'],
  409: ['DEVICE_KEY_MISMATCH'],
  413: ['DEVICE_BATCH_TOO_LARGE'],
  // The broker refused the credentials change: a gateway failure, not the request's.
  502: ['DEVICE_BROKER_SYNC_FAILED'],
});

export type DeviceErrorCode = keyof typeof STATUSES;

export class DeviceError extends DomainError<DeviceErrorCode> {
  static override readonly statuses = STATUSES;
}
