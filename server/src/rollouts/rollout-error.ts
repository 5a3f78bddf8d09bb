// Errors of the rollout engine, each with a stable `code` and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type RolloutErrorCode =
  | 'INVALID_ROLLOUT'
  | 'BUNDLE_NOT_FOUND'
  | 'ROLLOUT_NOT_FOUND'
  | 'DEVICE_NOT_IN_ROLLOUT'
  | 'ROLLOUT_CONFLICT'
  | 'NO_MATCHING_DEVICES'
  | 'ILLEGAL_TRANSITION'
  | 'ROLLOUT_BUSY';

const STATUSES: Record<RolloutErrorCode, number> = {
  INVALID_ROLLOUT: 400,
  BUNDLE_NOT_FOUND: 404,
  ROLLOUT_NOT_FOUND: 404,
  DEVICE_NOT_IN_ROLLOUT: 404,
  ROLLOUT_CONFLICT: 409,
  NO_MATCHING_DEVICES: 409,
  ILLEGAL_TRANSITION: 409,
  ROLLOUT_BUSY: 503,
};

/** A refused rollout operation. Clients match on `code`, never on the message. */
export class RolloutError extends DomainError<RolloutErrorCode> {
  static override readonly statuses = STATUSES;
}
