// /metrics in its default `loopback` mode (issue 16, Low): a scraper on this host reads it, a peer elsewhere
// needs an operator token. The peer address is what Node's socket reports, given here as the server's
// request would carry it; the token store is the seam (test/pipeline/public-surface.test.ts runs `token`
// mode on a real server).
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../auth/tokens.ts';
import type { AppEnv } from './app-env.ts';
import { handleError } from './errors.ts';
import { guardMetrics, metricsAccess, type MetricsAccess } from './public-pages.ts';

function app(access: MetricsAccess) {
  const a = new Hono<AppEnv>();
  a.onError(handleError);
  a.use('*', async (c, next) => {
    const tokens = { findByHash: async (h: string) => (h === hashToken('flt_good') ? { id: 'tok_1', role: 'viewer' } : null) };
    c.set('services', { store: { tokens } } as never);
    await next();
  });
  a.use('/metrics', guardMetrics(access));
  a.get('/metrics', (c) => c.text('flotilla_up 1'));
  return a;
}

/** GET /metrics as if from `remote`, with `token` when given. */
const scrape = (access: MetricsAccess, remote: string, token?: string) =>
  app(access).request('/metrics', token ? { headers: { authorization: `Bearer ${token}` } } : {}, {
    incoming: { socket: { remoteAddress: remote, remotePort: 40000, remoteFamily: remote.includes(':') ? 'IPv6' : 'IPv4' } },
  });

describe('/metrics access', () => {
  it('loopback (the default): this host reads it; any other peer needs a live operator token', async () => {
    expect(metricsAccess(undefined)).toBe('loopback');
    for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect((await scrape('loopback', local)).status).toBe(200);
    for (const remote of ['10.0.0.5', '::ffff:10.0.0.5', '2001:db8::1', '128.0.0.1']) {
      const refused = await scrape('loopback', remote);
      expect(refused.status).toBe(401);
      expect(await refused.text()).toContain('FLOTILLA_METRICS_ACCESS');
      expect((await scrape('loopback', remote, 'flt_bad')).status).toBe(401);
      expect((await scrape('loopback', remote, 'flt_good')).status).toBe(200);
    }
  });

  it('token asks everyone, open asks no one, and anything else is refused at start', async () => {
    expect((await scrape('token', '127.0.0.1')).status).toBe(401);
    expect((await scrape('token', '127.0.0.1', 'flt_good')).status).toBe(200);
    expect((await scrape('open', '10.0.0.5')).status).toBe(200);
    expect(() => metricsAccess('public')).toThrow(/must be loopback, token or open/);
  });
});
