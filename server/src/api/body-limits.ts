// Request body limits for every API route, applied once in front of all of them: a route that forgets
// its own limit must not accept a 100 MB body. Bytes are counted while the body streams in (a chunked
// upload declares no length), and a JSON body is checked for depth before it is parsed.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MAX_ONNX_IMPORT } from '../conversion/conversion-service.ts';
import { ApiError } from './api-error.ts';
import type { AppEnv } from './app-env.ts';
import { jsonNestsDeeperThan } from './json-depth.ts';

const MiB = 1024 * 1024;
/** Any JSON body without a larger limit below: policies, rollouts, tokens, aliases, runs, sweeps, exports. */
export const JSON_BODY_LIMIT = MiB;
/** Nesting allowed in a JSON body; the deepest schema (a retraining policy's hyperparameters) needs under 10. */
export const JSON_MAX_DEPTH = 32;

interface Limit {
  method: string;
  path: RegExp;
  /** null: the route streams the body and counts it itself (CSV import, up to 1 GiB). */
  max: number | null;
  what: string;
}

const LIMITS: Limit[] = [
  { method: 'POST', path: /^\/api\/v1\/datasets$/, max: null, what: 'CSV uploads' },
  { method: 'POST', path: /^\/api\/v1\/models\/import$/, max: MAX_ONNX_IMPORT, what: 'ONNX imports' },
  // Calibration and evaluation samples may come inline, base64-encoded.
  {
    method: 'POST',
    path: /^\/api\/v1\/models\/[^/]+\/versions\/[^/]+\/quantize$/,
    max: 64 * MiB,
    what: 'quantize requests (inline samples included)',
  },
  { method: 'POST', path: /^\/api\/v1\/devices\/import$/, max: 32 * MiB, what: 'device imports' },
  // A target may name up to 100,000 device ids of up to 128 characters.
  { method: 'POST', path: /^\/api\/v1\/rollouts$/, max: 16 * MiB, what: 'rollout requests' },
  { method: 'POST', path: /^\/api\/v1\/bundles$/, max: 8 * MiB, what: 'bundle uploads' },
];

function limitFor(method: string, path: string): { max: number | null; what: string } {
  return LIMITS.find((l) => l.method === method && l.path.test(path)) ?? { max: JSON_BODY_LIMIT, what: 'JSON request bodies' };
}

const tooLarge = (max: number, what: string) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `${what} are limited to ${max} bytes (${max / MiB} MiB)`);

/** Refuses a body over its route's limit with 413, and a JSON body nested deeper than JSON_MAX_DEPTH with 400. */
export function limitBodies(): MiddlewareHandler<AppEnv> {
  const limiters = new Map<string, MiddlewareHandler>();
  const limiter = (max: number, what: string) => {
    const key = `${max} ${what}`;
    let m = limiters.get(key);
    if (!m) {
      m = bodyLimit({
        maxSize: max,
        onError: () => {
          throw tooLarge(max, what);
        },
      });
      limiters.set(key, m);
    }
    return m;
  };
  return async (c, next) => {
    if (!c.req.raw.body) return next();
    const { max, what } = limitFor(c.req.method, c.req.path);
    if (max === null) return next();
    return limiter(max, what)(c, async () => {
      if (/^application\/([\w.-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
        // Read once here; the route's validator parses the cached text.
        if (jsonNestsDeeperThan(await c.req.text(), JSON_MAX_DEPTH)) {
          throw new ApiError(400, 'JSON_TOO_DEEP', `JSON bodies may nest at most ${JSON_MAX_DEPTH} arrays or objects deep`);
        }
      }
      await next();
    });
  };
}
