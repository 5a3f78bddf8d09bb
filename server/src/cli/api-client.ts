// The CLI's HTTP client: adds the operator token, turns API errors into CliErrors with exit codes.
import { CliError, EXIT } from './exit-codes.ts';
import { readAdminTokenFile } from '../auth/bootstrap-admin.ts';
import { readSecretFile } from './secret-flags.ts';
import { join, resolve } from 'node:path';
import type { ApiErrorBody } from '../api/contract.ts';

export interface ClientOptions {
  server?: string;
  /** A token given in code (the demo, the simulator); never a command-line flag (secret-flags.ts). */
  token?: string;
  /** A file holding the operator token (first line). */
  tokenFile?: string;
}

/** Where the CLI looks for an operator token, in order: for --help and for the error when none works. */
export const TOKEN_SEARCH_HELP = [
  '--token-file FILE (never --token: other users could read it in `ps`)',
  'env FLOTILLA_TOKEN (or FLOTILLA_ADMIN_TOKEN)',
  "the admin-token file in the server's data folder: $FLOTILLA_DATA/admin-token, else ./.flotilla/admin-token",
];

/** The token to send and where it came from (null when none of TOKEN_SEARCH_HELP's places has one). */
export function findToken(o: ClientOptions, env: NodeJS.ProcessEnv = process.env): { token: string; from: string } | null {
  if (o.token) return { token: o.token, from: 'the caller' };
  if (o.tokenFile) {
    try {
      return { token: readSecretFile(o.tokenFile, '--token-file'), from: `--token-file ${o.tokenFile}` };
    } catch (e) {
      throw new CliError('TOKEN_FILE_UNREADABLE', (e as Error).message, EXIT.USAGE);
    }
  }
  if (env.FLOTILLA_TOKEN) return { token: env.FLOTILLA_TOKEN, from: 'FLOTILLA_TOKEN' };
  if (env.FLOTILLA_ADMIN_TOKEN) return { token: env.FLOTILLA_ADMIN_TOKEN, from: 'FLOTILLA_ADMIN_TOKEN' };
  const dir = resolve(env.FLOTILLA_DATA ?? '.flotilla');
  const fromFile = readAdminTokenFile(dir);
  return fromFile ? { token: fromFile, from: join(dir, 'admin-token') } : null;
}

/** What to do when the server refuses the token, or there was none: where the CLI looked and how to point it. */
function tokenHint(found: { from: string } | null): string {
  if (found) return ` (the token came from ${found.from}; pass another with --token-file or FLOTILLA_TOKEN)`;
  const dir = resolve(process.env.FLOTILLA_DATA ?? '.flotilla');
  return (
    ` (no operator token found: looked at ${TOKEN_SEARCH_HELP.join('; ')} (${join(dir, 'admin-token')} does not exist). ` +
    'If the server was started with --data DIR, set FLOTILLA_DATA=DIR or pass --token-file DIR/admin-token; ' +
    'make more tokens with flotilla tokens create)'
  );
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;
  private readonly found: { token: string; from: string } | null;

  constructor(o: ClientOptions) {
    this.base = (o.server ?? process.env.FLOTILLA_SERVER ?? DEFAULT_SERVER).replace(/\/$/, '');
    this.found = findToken(o);
    this.token = this.found?.token;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /** An untyped call, for what the typed API cannot express (streamed uploads, raw bytes); prefer `typedApi`. */
  async request<T = unknown>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(method, path, {
      ...init,
      body: body === undefined ? init.body : JSON.stringify(body),
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    const text = await res.text();
    const parsed = parseBody(text);
    if (!res.ok) throw apiFailure(res.status, parsed, text);
    return parsed as T;
  }

  raw(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    return this.fetch(`${this.base}${path}`, {
      method,
      ...init,
      headers: { ...this.headers(), ...(init.headers as Record<string, string>) },
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  }

  /**
   * fetch, with an unreachable server reported as such (exit 3) instead of a bare network error, and a
   * refused token (401) reported with where the token came from, or every place looked at for one.
   */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (e) {
      throw new CliError(
        'SERVER_UNREACHABLE',
        `cannot reach the Flotilla server at ${this.base} (${(e as Error).cause ?? (e as Error).message}); start it with 'flotilla server' or pass --server URL`,
        EXIT.UNREACHABLE,
      );
    }
    if (res.status !== 401) return res;
    const text = await res.text();
    const e = apiFailure(401, parseBody(text), text);
    throw new CliError(e.code, `${e.message}${tokenHint(this.found)}`, e.exit);
  };
}

/** Parses a response body as JSON; null for an empty or non-JSON body (an error page from a proxy, say). */
export function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export function apiFailure(status: number, parsed: unknown, text: string): CliError {
  const error = (parsed as Partial<ApiErrorBody> | null)?.error;
  const code = error?.code ?? `HTTP_${status}`;
  const message = error?.message ?? (text.slice(0, 300) || `HTTP ${status}`);
  const exit = status === 401 || status === 403 ? EXIT.AUTH : status === 404 ? EXIT.NOT_FOUND : status >= 500 ? EXIT.FAILED : EXIT.REJECTED;
  return new CliError(code, message, exit);
}
