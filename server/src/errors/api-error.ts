// Errors the API turns into `{ "error": { "code", "message" } }` with an HTTP status.
// Codes are stable strings: clients and tests match on them, never on messages.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new ApiError(400, code, message, details);
export const notFound = (what: string, id: string) => new ApiError(404, 'NOT_FOUND', `${what} '${id}' was not found`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
