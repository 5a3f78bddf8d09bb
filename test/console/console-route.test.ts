// How the server serves the built console: index.html for app paths, long cache for hashed assets,
// gzip when asked, JSON 404s for the API, no path escapes, and a build hint when dist is missing.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '@flotilla/server/api/routes/console';

// base/dist is the build; base/secret.txt sits beside it, where no request may reach.
const base = mkdtempSync(join(tmpdir(), 'console-route-'));
const dist = join(base, 'dist');
afterAll(() => rmSync(base, { recursive: true, force: true }));
mkdirSync(join(dist, 'assets'), { recursive: true });
writeFileSync(
  join(dist, 'index.html'),
  '<!doctype html><title>console</title><script type="module" src="/assets/index-AbCd1234.js"></script>',
);
const js = `console.log(${JSON.stringify('x'.repeat(4000))});`;
writeFileSync(join(dist, 'assets/index-AbCd1234.js'), js);
writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(join(base, 'secret.txt'), 'no');

/** The console mounted last behind an API route, as app.ts does. */
function app(dir = dist) {
  const a = new Hono();
  a.get('/api/v1/models', (c) => c.json({ models: [] }));
  a.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  a.route('/', consoleRoutes(dir));
  return a;
}

describe('console route', () => {
  it('serves index.html at / and for unknown app paths, never cached stale, with a CSP', async () => {
    for (const path of ['/', '/devices/car-1', '/some/deep/link']) {
      const r = await app().request(path);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(await r.text()).toMatch(/<title>console<\/title>/);
    }
  });

  it('serves hashed assets for a year, gzipped when the browser accepts it', async () => {
    const plain = await app().request('/assets/index-AbCd1234.js');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await plain.text()).toBe(js);
    const gz = await app().request('/assets/index-AbCd1234.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(js);
    const icon = await app().request('/favicon.svg');
    expect([icon.status, icon.headers.get('content-type'), icon.headers.get('cache-control')]).toEqual([
      200,
      'image/svg+xml',
      'public, max-age=300',
    ]);
  });

  it('answers a missing asset with 404 (not HTML the browser would refuse to run)', async () => {
    const r = await app().request('/assets/index-gone1234.js');
    expect(r.status).toBe(404);
    expect((await r.json()).error.code).toBe('NOT_FOUND');
  });

  it('leaves the API alone: its routes answer, its unknown paths stay JSON 404s', async () => {
    expect(await (await app().request('/api/v1/models')).json()).toEqual({ models: [] });
    const r = await app().request('/api/v1/nothing-here');
    expect(r.status).toBe(404);
    expect((await r.json()).error.message).toBe('no route for GET /api/v1/nothing-here');
    expect((await app().request('/metrics')).status).toBe(404);
    // Only GET and HEAD reach the console.
    expect((await app().request('/', { method: 'POST' })).status).toBe(404);
  });

  it('never serves a file outside dist', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await app().request(path);
      expect(await r.text()).not.toBe('no');
    }
  });

  it('says how to build the console when dist is missing', async () => {
    const r = await app(join(dist, 'not-built')).request('/');
    expect(r.status).toBe(503);
    const body = await r.text();
    expect(body).toMatch(/npm run build -w web-console/);
    expect(body).toMatch(/\/api\/docs/);
  });
});
