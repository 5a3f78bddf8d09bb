// Errors of events and webhooks, with stable codes and the HTTP status the API answers with.
import { DomainError, statusTable } from '../errors/domain-error.ts';

const STATUSES = statusTable({
  400: ['INVALID_WEBHOOK', 'INVALID_EVENT_FILTER', 'INVALID_CURSOR'],
  404: ['NOT_FOUND'],
  409: ['TOO_MANY_WEBHOOKS'],
});

export type EventsErrorCode = keyof typeof STATUSES;

export class EventsError extends DomainError<EventsErrorCode> {
  static override readonly statuses = STATUSES;
}
