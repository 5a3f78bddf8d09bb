// The CLI's HTTP client: adds the operator token, turns API errors into CliErrors with exit codes.
import { CliError, EXIT } from './exit-codes.ts';
import { readAdminTokenFile } from '../auth/bootstrap-admin.ts';
import { resolve } from 'node:path';
import type { ApiErrorBody } from '../api/contract.ts';

export interface ClientOptions {
  server?: string;
  token?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;

  constructor(o: ClientOptions) {
    this.base = (o.server ?? process.env.FLOTILLA_SERVER ?? DEFAULT_SERVER).replace(/\/$/, '');
    this.token = o.token ?? process.env.FLOTILLA_TOKEN ?? process.env.FLOTILLA_ADMIN_TOKEN
      ?? readAdminTokenFile(resolve(process.env.FLOTILLA_DATA ?? '.flotilla')) ?? undefined;
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
    return this.fetch(`${this.base}${path}`, { method, ...init, headers: { ...this.headers(), ...(init.headers as Record<string, string>) }, ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
  }

  /** fetch, with an unreachable server reported as such (exit 3) instead of a bare network error. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await fetch(input, init);
    } catch (e) {
      throw new CliError('SERVER_UNREACHABLE', `cannot reach the Flotilla server at ${this.base} (${(e as Error).cause ?? (e as Error).message}); start it with 'flotilla server' or pass --server URL`, EXIT.UNREACHABLE);
    }
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
  const hint = status === 401 ? ' (pass --token, or set FLOTILLA_TOKEN)' : '';
  return new CliError(code, `${message}${hint}`, exit);
}
