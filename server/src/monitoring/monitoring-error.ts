// Errors from the monitoring library, each with a stable `code` that the API and tests match on.
import { DomainError, statusTable } from '../errors/domain-error.ts';

const STATUSES = statusTable({
  400: ['INVALID_REFERENCE', 'INVALID_COUNTS', 'INVALID_QUERY'],
  404: ['ALERT_NOT_FOUND'],
  409: ['ALERT_STATE'],
});

export type MonitoringErrorCode = keyof typeof STATUSES;

export class MonitoringError extends DomainError<MonitoringErrorCode> {
  static override readonly statuses = STATUSES;
}
