// [WIRE-3.1] Blobs over HTTP for devices that prefer it: the same bytes as the MQTT chunk service,
// with Range, ETag and resumable downloads. A device token reads only what its desired state names;
// an operator token reads any blob. Mounted ahead of the operator-only authentication.
import { Readable } from 'node:stream';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { hashToken } from '../../auth/tokens.ts';
import { ApiError } from '../api-error.ts';
import type { AppEnv, Services } from '../app-env.ts';
import type { FleetServices } from './fleet-services.ts';

const DIGEST = /^[0-9a-f]{64}$/;

export function blobRoutes(f: FleetServices, s: Services) {
  return new OpenAPIHono<AppEnv>().openapi(
    createRoute({
      method: 'get',
      path: '/blobs/{sha256}',
      summary:
        'A blob by sha256 (bundle file, envelope, chunk), with Range and ETag [WIRE-3.1]. Authorization: Bearer <deviceId>:<deviceToken>, or an operator token.',
      request: { params: z.object({ sha256: z.string() }) },
      responses: {
        200: {
          description: 'the whole blob',
          content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        206: {
          description: 'the requested range',
          content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        304: { description: 'not modified (If-None-Match)' },
        416: { description: 'range not satisfiable' },
      },
    }),
    async (c) => {
      const { sha256: digest } = c.req.valid('param');
      if (!DIGEST.test(digest)) throw new ApiError(400, 'INVALID_DIGEST', 'blob ids are 64 lower-case hex characters (sha256)');
      await authorize(c, f, s, digest);
      const stat = await s.blobs.stat(digest);
      if (!stat) throw new ApiError(404, 'NOT_FOUND', `blob ${digest} was not found`);
      const etag = `"${digest}"`;
      const headers: Record<string, string> = {
        etag,
        'accept-ranges': 'bytes',
        'cache-control': 'private, max-age=31536000, immutable',
        'content-type': 'application/octet-stream',
      };
      if (matchesEtag(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
      const ifRange = c.req.header('if-range');
      const range = ifRange && ifRange !== etag ? null : parseRange(c.req.header('range'), stat.bytes);
      if (range === 'unsatisfiable') return c.body(null, 416, { ...headers, 'content-range': `bytes */${stat.bytes}` });
      const { start, end } = range ?? { start: 0, end: stat.bytes - 1 };
      const length = Math.max(0, end - start + 1);
      headers['content-length'] = String(length);
      if (range) headers['content-range'] = `bytes ${start}-${end}/${stat.bytes}`;
      const status = range ? 206 : 200;
      if (c.req.method === 'HEAD' || length === 0) return c.body(null, status, headers);
      const stream = s.blobs.stream(digest, { start, end });
      if (!stream) throw new ApiError(404, 'NOT_FOUND', `blob ${digest} was not found`);
      f.onHttpBlobBytes(length);
      // node:stream/web and the DOM declare ReadableStream separately; at run time they are the same class.
      return c.body(Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, status, headers);
    },
  );
}

async function authorize(c: Context<AppEnv>, f: FleetServices, s: Services, digest: string): Promise<void> {
  const header = c.req.header('authorization');
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!secret) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer <deviceId>:<deviceToken> (or an operator token)');
  const colon = secret.indexOf(':');
  if (colon > 0) {
    const identity = await f.devices.authenticate(secret.slice(0, colon), secret.slice(colon + 1));
    if (!identity) throw new ApiError(401, 'UNAUTHENTICATED', 'unknown device, wrong token, or revoked');
    if (!(await f.delivery.fetchableBy(identity.deviceId)).has(digest)) {
      throw new ApiError(403, 'FORBIDDEN', "this blob is not part of the bundles in the device's desired state [WIRE-2.7]");
    }
    return;
  }
  const token = await s.store.tokens.findByHash(hashToken(secret));
  if (!token) throw new ApiError(401, 'UNAUTHENTICATED', 'unknown or revoked token');
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  return !!header && (header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag));
}

/**
 * One byte range of `size` [RFC 9110 §14.1.2]: `start-end`, `start-`, or `-suffix`. Null means
 * serve the whole blob (no header, a syntax we ignore, or several ranges, which we may ignore).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
