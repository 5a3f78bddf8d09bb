// Bearer-token authentication and role checks. Every /api route needs at least a viewer token.
import type { MiddlewareHandler } from 'hono';
import { hashToken, roleAllows } from '../auth/tokens.ts';
import { ApiError } from './api-error.ts';
import type { Role } from '../store/entities.ts';
import type { AppEnv } from './app-env.ts';

/** Resolves the caller from `Authorization: Bearer <token>` (or `?token=` for EventSource, which cannot set headers). */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : c.req.query('token');
  if (!secret) throw new ApiError(401, 'UNAUTHENTICATED', 'missing operator token: send Authorization: Bearer <token>');
  const token = await c.get('services').store.tokens.findByHash(hashToken(secret));
  if (!token) throw new ApiError(401, 'UNAUTHENTICATED', 'unknown or revoked operator token');
  c.set('actor', { id: token.id, name: token.name, role: token.role });
  await next();
};

/** Refuses callers below `role` with 403. */
export const requireRole = (role: Role): MiddlewareHandler<AppEnv> => async (c, next) => {
  const actor = c.get('actor');
  if (!roleAllows(actor.role, role)) {
    throw new ApiError(403, 'FORBIDDEN', `this needs the '${role}' role; your token has '${actor.role}'`);
  }
  await next();
};
