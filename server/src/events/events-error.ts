// Errors of events and webhooks, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type EventsErrorCode = 'NOT_FOUND' | 'INVALID_WEBHOOK' | 'INVALID_EVENT_FILTER' | 'INVALID_CURSOR' | 'TOO_MANY_WEBHOOKS';

const STATUSES: Record<EventsErrorCode, number> = {
  NOT_FOUND: 404,
  INVALID_WEBHOOK: 400,
  INVALID_EVENT_FILTER: 400,
  INVALID_CURSOR: 400,
  TOO_MANY_WEBHOOKS: 409,
};

export class EventsError extends DomainError<EventsErrorCode> {
  static override readonly statuses = STATUSES;
}
