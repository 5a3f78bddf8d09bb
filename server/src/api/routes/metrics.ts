// GET /metrics in the Prometheus text format, and the middleware that times every HTTP request.
import { Hono, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../app-env.ts';
import type { Histogram, MetricsRegistry } from '../../metrics/registry.ts';

/** Latency buckets for HTTP requests, seconds. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Observes each request's duration by method, route pattern (never the raw path: ids would explode the series) and status. */
export function httpMetrics(registry: MetricsRegistry): MiddlewareHandler<AppEnv> {
  const h: Histogram = registry.histogram('flotilla_http_request_duration_seconds', 'HTTP request latency by route', HTTP_BUCKETS);
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    // The handler's pattern, not a middleware's ('*'): the last matched route bound to a method.
    const routes = matchedRoutes(c);
    let route = 'unmatched';
    for (let i = routes.length - 1; i >= 0; i--) {
      if (routes[i]!.method !== 'ALL') {
        route = routes[i]!.path;
        break;
      }
    }
    h.observe({ method: c.req.method, route, status: String(c.res.status) }, (performance.now() - t0) / 1000);
  };
}

export function metricsRoutes(registry: MetricsRegistry) {
  return new Hono<AppEnv>().get('/metrics', (c) =>
    c.body(registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
}
