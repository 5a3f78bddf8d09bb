// The one base of every error a domain refuses a request with: a stable `code` clients match on, and the
// HTTP status the API answers with, looked up from the domain's code table. api/errors.ts maps these
// (and only these) by instanceof; anything else that reaches a route is a logged 500.

export class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    /** HTTP status the API answers with when this error reaches it. */
    readonly status: number,
    /** Structured context for the API and CLI; never needed to match. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The message every domain uses for a missing thing, e.g. "run 'abc' was not found". */
export const notFoundMessage = (what: string, id: string) => `${what} '${id}' was not found`;
