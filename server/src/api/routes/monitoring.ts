// Monitoring API: metric series, live drift state, alerts (list, acknowledge, resolve) and a live SSE stream.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { streamSSE } from 'hono/streaming';
import type { AlertChange } from '../../monitoring/alert.ts';
import { MonitoringError } from '../../monitoring/monitoring-error.ts';
import type { WindowEvent } from '../../monitoring/monitoring-events.ts';
import type { MonitoringService } from '../../monitoring/monitoring-service.ts';
import { SCOPES } from '../../monitoring/rollup.ts';
import { BUCKETS, METRICS, type Metric } from '../../monitoring/series.ts';
import { respond } from '../schemas/respond.ts';
import { Alert, DriftAnswer, SeriesAnswer } from '../schemas/monitoring.ts';

export interface MonitoringRouteDeps {
  monitoring: MonitoringService;
}

const json = <T extends z.ZodType>(description: string, schema: T) => respond(200, description, schema);
const DAY_MS = 86_400_000;
/** Live windows are sent in batches at most this often, ms, so a busy fleet cannot flood a browser. */
const SSE_FLUSH_MS = 1000;
/** Windows listed per batch; the batch still counts all of them. */
const SSE_ITEMS = 50;
const SSE_PING_MS = 15_000;

/** ISO 8601 or ms since the epoch. */
function time(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  // 8.64e15 ms is the last instant a Date can hold: beyond it every later toISOString throws.
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15)
    throw new MonitoringError(
      'INVALID_QUERY',
      `${name} '${v.slice(0, 40)}' is neither ISO 8601 nor ms since the epoch (within years ±275,000)`,
    );
  return t;
}

function metricList(v: string | undefined): Metric[] {
  if (!v || v === 'all') return [...METRICS];
  const list = v
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of list)
    if (!(METRICS as readonly string[]).includes(m))
      throw new MonitoringError('INVALID_QUERY', `unknown metric '${m}'; choose from ${METRICS.join(', ')}`);
  return list as Metric[];
}

const SeriesQuery = z.object({
  scope: z
    .enum(SCOPES as [string, ...string[]])
    .default('fleet')
    .openapi({ description: 'fleet, cohort or device' }),
  id: z.string().optional().openapi({ description: 'cohort tag or device id (not for the fleet)' }),
  model: z.string().optional().openapi({ description: 'name@version; all models when absent' }),
  metrics: z
    .string()
    .optional()
    .openapi({ description: `comma-separated, default all: ${METRICS.join(', ')}` }),
  metric: z.string().optional().openapi({ description: 'one metric (same as metrics=)' }),
  from: z.string().optional().openapi({ description: 'ISO 8601 or ms; default 24 h before `to`' }),
  to: z.string().optional().openapi({ description: 'ISO 8601 or ms, exclusive; default now' }),
  bucket: z.enum(BUCKETS).default('hour').openapi({ description: 'minute (ranges up to 6 h: the last hours as lines), hour or day' }),
});

export function monitoringRoutes(d: MonitoringRouteDeps) {
  const m = d.monitoring;
  return routeApp([{ role: 'operator', methods: ['POST'], paths: ['/monitoring/alerts/*'] }])
    .openapi(
      route(
        'get',
        '/monitoring/series',
        'Metric time series (hourly or daily) for the fleet, a cohort or one device, one series per model',
        { query: SeriesQuery },
        json('series', SeriesAnswer),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const to = time(q.to, Date.now(), 'to');
        const from = time(q.from, to - DAY_MS, 'from');
        const metrics = metricList(q.metrics ?? q.metric);
        const scope = q.scope as (typeof SCOPES)[number];
        const series = await m.series({ scope, id: q.id, model: q.model, from, to, bucket: q.bucket, metrics });
        return c.json(
          {
            scope,
            id: scope === 'fleet' ? '*' : q.id,
            bucket: q.bucket,
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            series,
          },
          200,
        );
      },
    )
    .openapi(
      route(
        'get',
        '/monitoring/drift',
        'Live drift state per cohort, model and feature, with the detector settings',
        { query: z.object({ cohort: z.string().optional(), model: z.string().optional() }) },
        json('drift', DriftAnswer),
      ),
      async (c) => c.json({ config: m.driftConfig, streams: m.drift(c.req.valid('query')) }, 200),
    )
    .openapi(
      route(
        'get',
        '/monitoring/alerts',
        'Drift alerts, newest first',
        {
          query: z.object({
            state: z.enum(['open', 'resolved']).optional(),
            cohort: z.string().optional(),
            model: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
        },
        json('alerts', z.object({ alerts: z.array(Alert) })),
      ),
      async (c) => c.json({ alerts: await m.alerts(c.req.valid('query')) }, 200),
    )
    .openapi(
      route('get', '/monitoring/alerts/{id}', 'One alert', { params: z.object({ id: z.string() }) }, json('alert', Alert)),
      async (c) => c.json(await m.alert(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'post',
        '/monitoring/alerts/{id}/ack',
        'Acknowledge an open alert (operator)',
        { params: z.object({ id: z.string() }) },
        json('acknowledged', Alert),
      ),
      async (c) => c.json(await m.acknowledge(c.req.valid('param').id, c.get('actor').id), 200),
    )
    .openapi(
      route(
        'post',
        '/monitoring/alerts/{id}/resolve',
        'Resolve an open alert by hand (operator); drift that persists raises a new one',
        { params: z.object({ id: z.string() }) },
        json('resolved', Alert),
      ),
      async (c) => c.json(await m.resolve(c.req.valid('param').id, c.get('actor').id), 200),
    )
    .get('/monitoring/stream', (c) => {
      // SSE: `alert` events at once; `windows` batches (count, requests, errors, first 50) at most once a second.
      const scope = c.req.query('scope') ?? 'fleet';
      const id = c.req.query('id');
      const model = c.req.query('model');
      if (!(SCOPES as readonly string[]).includes(scope) || (scope !== 'fleet' && !id))
        throw new MonitoringError('INVALID_QUERY', 'scope must be fleet, or cohort/device with an id');
      const wanted = (w: WindowEvent) =>
        (!model || w.model === model) && (scope === 'fleet' || (scope === 'cohort' ? w.cohorts.includes(id!) : w.deviceId === id));
      return streamSSE(c, async (stream) => {
        let closed = false;
        let wake: (() => void) | null = null;
        const alerts: AlertChange[] = [];
        let batch = { count: 0, requests: 0, errors: 0, items: [] as WindowEvent[] };
        const offW = m.onWindow((w) => {
          if (!wanted(w)) return;
          batch.count++;
          batch.requests += w.requests;
          batch.errors += w.errors;
          if (batch.items.length < SSE_ITEMS) batch.items.push(w);
        });
        const offA = m.onAlert((a) => {
          if ((scope === 'cohort' && a.alert.cohort !== id) || (model && a.alert.model !== model)) return;
          alerts.push(a);
          wake?.();
        });
        stream.onAbort(() => {
          closed = true;
          wake?.();
        });
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ scope, id: id ?? null, model: model ?? null }) });
        let lastSend = Date.now();
        let lastWindows = 0;
        while (!closed) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, SSE_FLUSH_MS);
          });
          wake = null;
          while (alerts.length && !closed) {
            await stream.writeSSE({ event: 'alert', data: JSON.stringify(alerts.shift()) });
            lastSend = Date.now();
          }
          const now = Date.now();
          if (batch.count > 0 && now - lastWindows >= SSE_FLUSH_MS - 5) {
            const out = batch;
            batch = { count: 0, requests: 0, errors: 0, items: [] };
            await stream.writeSSE({ event: 'windows', data: JSON.stringify(out) });
            lastWindows = lastSend = now;
          } else if (now - lastSend >= SSE_PING_MS) {
            await stream.writeSSE({ event: 'ping', data: '{}' });
            lastSend = now;
          }
        }
        offW();
        offA();
      });
    });
}
