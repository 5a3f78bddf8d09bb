// The CLI's HTTP client: adds the operator token, turns API errors into CliErrors with exit codes.
import { CliError, EXIT } from './exit-codes.ts';
import { readAdminTokenFile } from '../auth/bootstrap-admin.ts';
import { resolve } from 'node:path';

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

  async request<T = any>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(method, path, {
      ...init,
      body: body === undefined ? init.body : JSON.stringify(body),
      headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) throw apiFailure(res.status, parsed, text);
    return parsed as T;
  }

  async raw(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { method, ...init, headers: { ...this.headers(), ...(init.headers as Record<string, string>) }, ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (e) {
      throw new CliError('SERVER_UNREACHABLE', `cannot reach the Flotilla server at ${this.base} (${(e as Error).cause ?? (e as Error).message}); start it with 'flotilla server' or pass --server URL`, EXIT.UNREACHABLE);
    }
  }
}

export function apiFailure(status: number, parsed: any, text: string): CliError {
  const code = parsed?.error?.code ?? `HTTP_${status}`;
  const message = parsed?.error?.message ?? (text.slice(0, 300) || `HTTP ${status}`);
  const exit = status === 401 || status === 403 ? EXIT.AUTH : status === 404 ? EXIT.NOT_FOUND : status >= 500 ? EXIT.FAILED : EXIT.REJECTED;
  const hint = status === 401 ? ' (pass --token, or set FLOTILLA_TOKEN)' : '';
  return new CliError(code, `${message}${hint}`, exit);
}
