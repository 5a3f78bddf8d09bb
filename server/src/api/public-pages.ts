// The routes outside /api/v1 that need more than being public: /metrics names device ids and fleet sizes,
// and the API reference is an HTML page that must not be framed or load anything from elsewhere.
import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { secureHeaders } from 'hono/secure-headers';
import { hashToken } from '../auth/tokens.ts';
import { ApiError } from './api-error.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Who may read /metrics (env FLOTILLA_METRICS_ACCESS): `loopback` (default: a scraper on this host, or any
 * operator token), `token` (an operator token always), or `open`.
 */
export type MetricsAccess = 'loopback' | 'token' | 'open';

export function metricsAccess(env: string | undefined = process.env.FLOTILLA_METRICS_ACCESS): MetricsAccess {
  if (env === undefined || env === '') return 'loopback';
  if (env === 'loopback' || env === 'token' || env === 'open') return env;
  throw new Error(`FLOTILLA_METRICS_ACCESS must be loopback, token or open, not '${env}'`);
}

const isLoopback = (addr: string | undefined) => !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

function remoteAddress(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by a Node socket (in-process requests): not loopback
  }
}

/** Guards /metrics according to `access`. */
export function guardMetrics(access: MetricsAccess = metricsAccess()): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (access === 'open' || (access === 'loopback' && isLoopback(remoteAddress(c)))) return next();
    const header = c.req.header('authorization');
    const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const token = secret ? await c.get('services').store.tokens.findByHash(hashToken(secret)) : null;
    if (!token)
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        '/metrics needs an operator token (Authorization: Bearer <token>) here; see FLOTILLA_METRICS_ACCESS',
      );
    await next();
  };
}

/** Headers for the API reference page and the document it renders: no framing, no sniffing, nothing from elsewhere. */
export const docsHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'unsafe-inline'"],
      styleSrc: ["'unsafe-inline'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
  });
