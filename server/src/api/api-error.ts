// Refusals that belong to HTTP itself (authentication, request shapes, ranges), thrown by route modules.
// Domains throw their own DomainError subclass instead; both leave as `{ "error": { "code", "message" } }`.
import { DomainError, notFoundMessage } from '../errors/domain-error.ts';

export class ApiError extends DomainError<string> {
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(code, message, details, status);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new ApiError(400, code, message, details);
export const notFound = (what: string, id: string) => new ApiError(404, 'NOT_FOUND', notFoundMessage(what, id));
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
