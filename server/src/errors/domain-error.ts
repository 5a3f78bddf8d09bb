// The one base of every error a domain refuses a request with: a stable `code` clients match on, and the
// HTTP status the API answers with, looked up in the subclass's `statuses` table. api/errors.ts maps these
// (and only these) by instanceof; anything else that reaches a route is a logged 500.

export class DomainError<Code extends string = string> extends Error {
  /** Code → HTTP status; each domain's subclass sets its own. */
  static readonly statuses: Readonly<Record<string, number>> = {};

  /** HTTP status the API answers with when this error reaches it. */
  readonly status: number;

  /**
   * `details`: structured context for the API and CLI, never needed to match. `status` overrides
   * the table, for codes a domain does not know in advance.
   */
  constructor(
    readonly code: Code,
    message: string,
    readonly details?: unknown,
    status?: number,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status ?? (new.target as typeof DomainError).statuses[code] ?? 500;
  }

  /** `RunError.notFound('run', id)`: the NOT_FOUND error of a domain whose table has that code. */
  static notFound<E>(this: new (code: 'NOT_FOUND', message: string) => E, what: string, id: string): E {
    return new this('NOT_FOUND', notFoundMessage(what, id));
  }
}

/** The message every domain uses for a missing thing, e.g. "run 'abc' was not found". */
export const notFoundMessage = (what: string, id: string) => `${what} '${id}' was not found`;

/**
 * A domain's code table written once, grouped by status: `statusTable({ 400: ['INVALID_X'], 404: ['NOT_FOUND'] })`
 * gives `{ INVALID_X: 400, NOT_FOUND: 404 }`, and `keyof typeof` it is the domain's code type.
 */
export function statusTable<const C extends string>(byStatus: { readonly [status: number]: readonly C[] }): Readonly<Record<C, number>> {
  const table: Partial<Record<C, number>> = {};
  for (const [status, codes] of Object.entries<readonly C[]>(byStatus)) for (const code of codes) table[code] = Number(status);
  return table as Record<C, number>;
}
