// Exit codes that mean something, the same for every command (documented in `flotilla --help`).

export const EXIT = {
  OK: 0,
  /** The operation ran and its verdict was negative (run failed, gate refused, bundle invalid). */
  FAILED: 1,
  /** Bad flags or arguments: nothing was attempted. */
  USAGE: 2,
  /** The server could not be reached. */
  UNREACHABLE: 3,
  /** The server refused the token (401) or the role (403). */
  AUTH: 4,
  /** What was named does not exist (404). */
  NOT_FOUND: 5,
  /** The server refused the request as invalid (400/409/413/422). */
  REJECTED: 6,
  /** Interrupted or cancelled by the user. */
  CANCELLED: 130,
} as const;

export const EXIT_HELP = `Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 server unreachable,
4 token refused, 5 not found, 6 request rejected by the server, 130 cancelled.`;

/** An error the CLI reports as `{ ok: false, error: { code, message } }` and exits with `exit`. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exit: number = EXIT.FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
