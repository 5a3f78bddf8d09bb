// Errors from the monitoring library, each with a stable `code` that the API and tests match on.
import { DomainError } from '../errors/domain-error.ts';

export type MonitoringErrorCode = 'INVALID_REFERENCE' | 'INVALID_COUNTS' | 'INVALID_QUERY' | 'ALERT_NOT_FOUND' | 'ALERT_STATE';

const STATUSES: Record<MonitoringErrorCode, number> = {
  INVALID_REFERENCE: 400,
  INVALID_COUNTS: 400,
  INVALID_QUERY: 400,
  ALERT_NOT_FOUND: 404,
  ALERT_STATE: 409,
};

export class MonitoringError extends DomainError<MonitoringErrorCode> {
  static override readonly statuses = STATUSES;
}
