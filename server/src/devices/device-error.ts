// Errors of the device registry, with stable codes and the HTTP status the API answers with.

export type DeviceErrorCode = 'DEVICE_ID_INVALID' | 'DEVICE_LABEL_INVALID' | 'DEVICE_NOT_FOUND' | 'DEVICE_CSV_INVALID' | 'DEVICE_BATCH_TOO_LARGE' | 'DEVICE_BROKER_SYNC_FAILED';

export class DeviceError extends Error {
  constructor(readonly code: DeviceErrorCode, message: string, readonly status = 400, readonly details?: unknown) {
    super(message);
    this.name = 'DeviceError';
  }
}
