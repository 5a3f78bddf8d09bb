// Serves the built web console (web-console/dist) at `/`: index.html for every unknown non-API path (the
// console routes in the URL hash, but deep links must still load it), long cache for hashed assets, and
// a page saying how to build it when dist is missing. Mounted last, after the API.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { errorBody } from '../errors.ts';

/** The server package's folder (server/ in the repository, node_modules/@flotilla/server when installed). */
const SERVER_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/**
 * Where the console build is: in the repository, the web-console workspace's `vite build` output
 * (<repo>/web-console/dist); in an installed package, the copy `npm pack` built into the package's
 * console/ (scripts/pack-server.mjs), since the web-console workspace is never published.
 */
export const CONSOLE_DIST = existsSync(join(SERVER_ROOT, '../web-console/package.json'))
  ? resolve(SERVER_ROOT, '../web-console/dist')
  : join(SERVER_ROOT, 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map', '.txt', '.webmanifest']);
/** Vite names built assets `name-<8+ char hash>.ext`: such a file never changes, so browsers may keep it a year. */
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
/** The console calls only its own origin (no CDN, no fonts from elsewhere); styles come from its CSS file. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** Paths that belong to the server, never to the console (their 404 stays the API's JSON). */
const SERVER_PATHS = /^\/(api|healthz|readyz|metrics|mqtt)(\/|$)/;

const MISSING = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla: console not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:10vh auto;padding:0 1rem;color:#1d2433}
code,pre{font-family:ui-monospace,monospace;background:#eef0f4;border-radius:4px}pre{padding:.75rem}</style></head>
<body><h1>The web console has not been built</h1>
<p>This server serves the operator console from <code>web-console/dist</code>, which does not exist yet.
Build it from the repository root, then reload this page:</p>
<pre>npm run build -w web-console</pre>
<p><code>npm ci</code> builds it too (the root <code>prepare</code> script). The API works without it:
see <a href="/api/docs">/api/docs</a>.</p></body></html>`;

interface Cached {
  mtimeMs: number;
  body: Uint8Array;
  gzip: Uint8Array | null;
}

/** Serves files from `dist` (default: the console's build folder). */
export function consoleRoutes(dist = CONSOLE_DIST) {
  const cache = new Map<string, Cached>();
  const load = (file: string): Cached | null => {
    let st;
    try {
      st = statSync(file);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = readFileSync(file);
    const entry = { mtimeMs: st.mtimeMs, body, gzip: COMPRESSIBLE.has(extname(file)) && body.length > 1024 ? gzipSync(body) : null };
    cache.set(file, entry);
    return entry;
  };
  const send = (c: Context<AppEnv>, file: string, entry: Cached, cacheControl: string) => {
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': cacheControl,
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    };
    if (extname(file) === '.html') Object.assign(headers, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' });
    const gz = entry.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gz) headers['content-encoding'] = 'gzip';
    return c.body((gz ? entry.gzip! : entry.body) as Uint8Array<ArrayBuffer>, 200, headers);
  };

  // A middleware rather than a route: server paths (and routes anyone mounts later) fall through to them.
  return new Hono<AppEnv>().use('*', async (c, next) => {
    const path = c.req.path;
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || SERVER_PATHS.test(path)) return next();
    const index = join(dist, 'index.html');
    if (!existsSync(index)) return c.html(MISSING, 503);
    let rel: string;
    try {
      rel = normalize(decodeURIComponent(path));
    } catch {
      return c.json(errorBody('BAD_PATH', 'the path is not valid URL encoding'), 400);
    }
    const file = join(dist, rel);
    if (rel !== '/' && (file === dist || file.startsWith(dist + sep))) {
      const entry = load(file);
      if (entry) return send(c, file, entry, HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
      // A missing script or stylesheet must fail as a 404, not as HTML the browser then refuses to run.
      if (path.startsWith('/assets/') || extname(path) !== '')
        return c.json(errorBody('NOT_FOUND', `no file ${path} in the console build`), 404);
    }
    const entry = load(index);
    if (!entry) return c.html(MISSING, 503);
    // Always revalidated: it names the current hashed assets.
    return send(c, index, entry, 'no-cache');
  });
}
