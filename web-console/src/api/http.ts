// Talking to the API: where it is, the operator token on every call, and refusals as ApiError.

/** The API's base URL: the console is served by the server it talks to. */
export const API_BASE = `${location.origin}/api/v1`;

const TOKEN_KEY = 'flotilla.token';

/** An API refusal: HTTP status plus the server's stable error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The token lives in sessionStorage: it survives reloads, not closing the tab, and never reaches disk as a cookie. */
export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const t = getToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

const unauthorized = new Set<(e: ApiError) => void>();
/** Called whenever the server refuses the token (revoked, or the server was reset): the session ends. */
export function onUnauthorized(fn: (e: ApiError) => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

interface ResponseLike {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

/** Awaits a response and returns its JSON body as `T`, or throws ApiError with the server's code and message. */
export async function unwrap<T>(pending: Promise<ResponseLike> | ResponseLike): Promise<T> {
  let res: ResponseLike;
  try {
    res = await pending;
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the server did not answer (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.ok) return (await res.json()) as T;
  let body: { error?: { code?: string; message?: string } } | null = null;
  try {
    body = (await res.json()) as { error?: { code?: string; message?: string } };
  } catch {
    /* not JSON: keep the status */
  }
  const err = new ApiError(
    res.status,
    body?.error?.code ?? `HTTP_${res.status}`,
    body?.error?.message ?? `the server answered ${res.status}`,
  );
  if (res.status === 401) for (const fn of unauthorized) fn(err);
  throw err;
}

/** Plain fetch with the token, for calls without a typed client. */
export function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  return unwrap<T>(
    fetch(`${API_BASE}${path}`, {
      method,
      headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

/** The server has no such route at all (an older server, or a feature not built in): not the same as a missing entity. */
export const isMissingRoute = (e: unknown): boolean => e instanceof ApiError && e.status === 404 && e.message.startsWith('no route for');

/** Query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
