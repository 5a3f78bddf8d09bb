// Every API error leaves as `{ "error": { "code", "message" } }` with the right HTTP status.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../errors/api-error.ts';
import type { AppEnv } from './app-env.ts';

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Hono onError handler: known errors keep their status and code; the rest are 500s, logged. */
export function handleError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.details), err.status as ContentfulStatusCode);
  const coded = err as Error & { code?: unknown; status?: unknown };
  if (typeof coded.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(coded.code)) {
    // Library errors with stable codes (DatasetError, QuantizeError, BundleError) are client errors.
    const status = typeof coded.status === 'number' ? coded.status : 400;
    return c.json(errorBody(coded.code, err.message), status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException) {
    return c.json(errorBody(err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'HTTP_ERROR', err.message || 'request refused'), err.status);
  }
  if (err instanceof SyntaxError) return c.json(errorBody('INVALID_JSON', `request body is not valid JSON: ${err.message}`), 400);
  c.get('services')?.log.error('unhandled error', { path: c.req.path, err: String(err?.stack ?? err) });
  return c.json(errorBody('INTERNAL', 'internal error; see the server log'), 500);
}

/** zod-openapi validation hook: a refused body names every field that is wrong. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, c: Context) {
  if (result.success) return;
  const issues = result.error?.issues ?? [];
  const message = issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
  return c.json(errorBody('VALIDATION_FAILED', message || 'invalid request', issues.map((i) => ({ path: i.path.map(String), message: i.message }))), 400);
}
