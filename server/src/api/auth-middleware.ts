// Bearer-token authentication and role checks. Every /api route needs at least a viewer token.
import type { MiddlewareHandler } from 'hono';
import { hashToken, roleAllows } from '../auth/tokens.ts';
import { TRAINER_TOKEN_PREFIX } from '../retraining/trainer-files.ts';
import { ApiError } from './api-error.ts';
import type { Role } from '../store/entities.ts';
import type { AppEnv } from './app-env.ts';

/**
 * The event streams, the only routes that take `?token=`: EventSource cannot set headers. Anywhere else a
 * token in the URL would end up in proxy logs, browser history and Referer headers.
 */
const SSE_ROUTES = /^\/api\/v1\/(monitoring\/stream|runs\/[^/]+\/events|events)$/;

/** Resolves the caller from `Authorization: Bearer <token>` (or `?token=` on the event streams). */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  const fromQuery = c.req.method === 'GET' && SSE_ROUTES.test(c.req.path) ? c.req.query('token') : undefined;
  if (!header && fromQuery === undefined && c.req.query('token') !== undefined) {
    throw new ApiError(
      401,
      'UNAUTHENTICATED',
      '?token= is accepted only on the event streams (monitoring/stream, runs/{id}/events, events): send Authorization: Bearer <token>',
    );
  }
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : fromQuery;
  if (!secret) throw new ApiError(401, 'UNAUTHENTICATED', 'missing operator token: send Authorization: Bearer <token>');
  if (secret.startsWith(TRAINER_TOKEN_PREFIX))
    throw new ApiError(
      401,
      'UNAUTHENTICATED',
      "a trainer job's download token works only on GET /api/v1/retraining/jobs/{id}/files/{name}: send an operator token here",
    );
  const token = await c.get('services').store.tokens.findByHash(hashToken(secret));
  if (!token) throw new ApiError(401, 'UNAUTHENTICATED', 'unknown or revoked operator token');
  c.set('actor', { id: token.id, name: token.name, role: token.role });
  await next();
};

/** Refuses callers below `role` with 403. */
export const requireRole =
  (role: Role): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const actor = c.get('actor');
    if (!roleAllows(actor.role, role)) {
      throw new ApiError(403, 'FORBIDDEN', `this needs the '${role}' role; your token has '${actor.role}'`);
    }
    await next();
  };
