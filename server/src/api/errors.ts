// Every API error leaves as `{ "error": { "code", "message" } }` with the right HTTP status.
import { randomUUID } from 'node:crypto';
import { BundleError } from '@flotilla/firmware-bundler';
import { OnnxError } from '@flotilla/firmware-bundler/onnx';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError } from '../errors/domain-error.ts';
import type { AppEnv } from './app-env.ts';

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Hono onError handler. A DomainError (ApiError included) keeps its status and code; the bundle
 * format's and the ONNX codec's errors name what is wrong with an uploaded file (400). Anything else,
 * whatever `code` it carries (ENOSPC, SQLITE_CONSTRAINT), is the server's fault: a 500 that says only
 * which request to look for in the log, because its message may describe the server's insides.
 */
export function handleError(err: Error, c: Context<AppEnv>) {
  if (err instanceof DomainError) {
    if (err.status >= 500) logFailure(c, err);
    return c.json(errorBody(err.code, err.message, err.details), err.status as ContentfulStatusCode);
  }
  if (err instanceof BundleError || err instanceof OnnxError) return c.json(errorBody(err.code, err.message), 400);
  if (err instanceof HTTPException) {
    return c.json(errorBody(err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'HTTP_ERROR', err.message || 'request refused'), err.status);
  }
  if (err instanceof SyntaxError) return c.json(errorBody('INVALID_JSON', `request body is not valid JSON: ${err.message}`), 400);
  // decodeURIComponent on a path or query part with a stray `%` (e.g. /datasets/%25, decoded twice): the client's mistake.
  if (err instanceof URIError)
    return c.json(errorBody('INVALID_PATH', `the request has a malformed percent-encoding (${err.message}): encode % as %25`), 400);
  const requestId = logFailure(c, err);
  return c.json(errorBody('INTERNAL', `internal error; see the server log for request ${requestId}`, { requestId }), 500);
}

/** Logs a failed request under a fresh id, which the answer repeats so an operator can find the line. */
function logFailure(c: Context<AppEnv>, err: Error): string {
  const requestId = randomUUID();
  c.get('services')?.log.error('request failed', { requestId, method: c.req.method, path: c.req.path, err: String(err?.stack ?? err) });
  return requestId;
}

/** zod-openapi validation hook: a refused body names every field that is wrong. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, c: Context) {
  if (result.success) return;
  const issues = result.error?.issues ?? [];
  const message = issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
  return c.json(
    errorBody(
      'VALIDATION_FAILED',
      message || 'invalid request',
      issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    ),
    400,
  );
}
