// Errors from the monitoring library, each with a stable `code` that the API and tests match on.

export type MonitoringErrorCode =
  | 'INVALID_REFERENCE'
  | 'INVALID_COUNTS'
  | 'INVALID_QUERY'
  | 'ALERT_NOT_FOUND'
  | 'ALERT_STATE';

export class MonitoringError extends Error {
  /** HTTP status the API answers with when this error reaches it. */
  readonly status: number;

  constructor(readonly code: MonitoringErrorCode, message: string) {
    super(message);
    this.name = 'MonitoringError';
    this.status = code === 'ALERT_NOT_FOUND' ? 404 : code === 'ALERT_STATE' ? 409 : 400;
  }
}
