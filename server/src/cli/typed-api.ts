// The CLI's view of the API, typed by the server's own routes through the API face (api/contract.ts), as
// the console's is: a path, parameter, body or answer field renamed on the server fails to compile here.
import { hc } from 'hono/client';
import type { ApiApp } from '../api/contract.ts';
import { apiFailure, parseBody, type ApiClient } from './api-client.ts';

/** hono's typed client over `/api/v1`, with the CLI's token, server and unreachable-server handling. */
export function typedApi(api: ApiClient) {
  return hc<ApiApp>(`${api.base}/api/v1`, { fetch: api.fetch, headers: () => api.headers() });
}

/** The body of a successful answer, typed by its route; a refusal becomes a CliError with its exit code. */
export async function answer<T>(
  pending: Promise<{ ok: boolean; status: number; text(): Promise<string>; json(): Promise<T> }>,
): Promise<T> {
  const res = await pending;
  const text = await res.text();
  const parsed = parseBody(text);
  if (!res.ok) throw apiFailure(res.status, parsed, text);
  return parsed as T;
}
