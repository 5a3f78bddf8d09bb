// Events API: the replayable SSE stream (`GET /events?after=SEQ`, or the `Last-Event-ID` header an
// EventSource sends when it reconnects), pages of the log as JSON, and webhooks (admin only).
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { streamSSE } from 'hono/streaming';
import type { AppServices } from '../app-env.ts';
import { matcher, parseFilters } from '../../events/event-filter.ts';
import { EventsError } from '../../events/events-error.ts';
import { respond } from '../schemas/respond.ts';
import { CreatedWebhook, Delivery, EventPage, Webhook } from '../schemas/events.ts';

export type EventRouteDeps = AppServices['events'];

const SSE_PAGE = 500;
/** Events other server processes appended are seen within this, ms (this process's wake the stream at once). */
const SSE_POLL_MS = 1000;
const SSE_PING_MS = 15_000;

/** A sequence number from `?after=` or `Last-Event-ID`. */
function cursor(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,15}$/.test(raw.trim()))
    throw new EventsError('INVALID_CURSOR', `${name} must be an event sequence number (0 for the beginning), not '${raw.slice(0, 40)}'`);
  return Number(raw.trim());
}

const typeFilter = (raw: string | undefined) => (raw ? matcher(parseFilters(raw.split(','))) : () => true);

const PageQuery = z.object({
  after: z.string().optional().openapi({ description: 'sequence number; default 0' }),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  types: z.string().optional().openapi({ description: 'comma-separated type filters, e.g. rollout.*,alert.opened' }),
});
const NewWebhook = z.object({
  url: z.string().max(4096),
  events: z.array(z.string().max(200)).max(100),
  secret: z.string().max(4096).optional(),
  description: z.string().max(500).optional(),
});
const HookId = z.object({ id: z.string().min(1).max(100) });

export function eventRoutes(d: EventRouteDeps) {
  return routeApp([{ role: 'admin', paths: ['/webhooks', '/webhooks/*'] }])
    .openapi(
      route(
        'get',
        '/events/page',
        'Events after a sequence number, oldest first, as JSON (viewer)',
        { query: PageQuery },
        respond(200, 'a page of events', EventPage),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const wants = typeFilter(q.types);
        const page = await d.log.after(cursor(q.after, 'after') ?? 0, q.limit ?? 100);
        const next = page.at(-1)?.sequence ?? cursor(q.after, 'after') ?? 0;
        return c.json({ events: page.filter((e) => wants(e.type)), next, head: await d.log.head() }, 200);
      },
    )
    .openapi(
      route(
        'get',
        '/webhooks',
        'Webhooks with their last deliveries (admin)',
        {},
        respond(200, 'webhooks', z.object({ webhooks: z.array(Webhook) })),
      ),
      async (c) => c.json({ webhooks: await d.webhooks.list() }, 200),
    )
    .openapi(
      route(
        'post',
        '/webhooks',
        'Add a webhook (admin); the answer is the only one that shows its secret',
        { body: NewWebhook },
        respond(201, 'created', CreatedWebhook),
      ),
      async (c) => c.json(await d.webhooks.add(c.req.valid('json'), c.get('actor').id), 201),
    )
    .openapi(route('get', '/webhooks/{id}', 'One webhook (admin)', { params: HookId }, respond(200, 'webhook', Webhook)), async (c) =>
      c.json(await d.webhooks.get(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'delete',
        '/webhooks/{id}',
        'Remove a webhook and its delivery log (admin)',
        { params: HookId },
        respond(200, 'removed', z.object({ removed: z.boolean() })),
      ),
      async (c) => {
        await d.webhooks.remove(c.req.valid('param').id);
        return c.json({ removed: true }, 200);
      },
    )
    .openapi(
      route(
        'post',
        '/webhooks/{id}/enable',
        'Enable a webhook again (admin): delivery resumes in order at the event it stopped at',
        { params: HookId },
        respond(200, 'enabled', Webhook),
      ),
      async (c) => c.json(await d.webhooks.enable(c.req.valid('param').id), 200),
    )
    .openapi(
      route(
        'post',
        '/webhooks/{id}/disable',
        'Disable a webhook (admin); events keep being recorded for it',
        { params: HookId, body: z.object({ reason: z.string().max(500).optional() }), optionalBody: true },
        respond(200, 'disabled', Webhook),
      ),
      async (c) => c.json(await d.webhooks.disable(c.req.valid('param').id, c.req.valid('json')?.reason ?? ''), 200),
    )
    .openapi(
      route(
        'get',
        '/webhooks/{id}/deliveries',
        "A webhook's delivery log, newest first (admin)",
        { params: HookId, query: z.object({ limit: z.coerce.number().int().min(1).max(200).optional() }) },
        respond(200, 'deliveries', z.object({ deliveries: z.array(Delivery) })),
      ),
      async (c) => c.json({ deliveries: await d.webhooks.deliveries(c.req.valid('param').id, c.req.valid('query').limit ?? 50) }, 200),
    )
    .get('/events', async (c) => {
      // SSE: each event as `id: <sequence>` + `data: <CloudEvent JSON>`; Last-Event-ID (a reconnecting
      // EventSource) wins over ?after=, which the reconnect repeats; neither: from now on.
      const fromHeader = cursor(c.req.header('last-event-id'), 'Last-Event-ID');
      const head = await d.log.head();
      const after = fromHeader ?? cursor(c.req.query('after'), 'after') ?? head;
      if (after > head)
        throw new EventsError(
          'INVALID_CURSOR',
          `after ${after} is beyond the newest event (${head}): is this the server you read from before?`,
        );
      const wants = typeFilter(c.req.query('types'));
      return streamSSE(c, async (stream) => {
        let closed = false;
        let wake: (() => void) | null = null;
        const off = d.bus.onEvent(() => wake?.());
        stream.onAbort(() => {
          closed = true;
          wake?.();
        });
        let at = after;
        let lastSend = Date.now();
        while (!closed) {
          const page = await d.log.after(at, SSE_PAGE);
          for (const e of page) {
            if (closed) break;
            at = e.sequence;
            if (!wants(e.type)) continue;
            await stream.writeSSE({ id: String(e.sequence), data: JSON.stringify(e) });
            lastSend = Date.now();
          }
          if (page.length === SSE_PAGE || closed) continue;
          await new Promise<void>((r) => {
            const t = setTimeout(r, SSE_POLL_MS);
            wake = () => {
              clearTimeout(t);
              r();
            };
          });
          wake = null;
          if (Date.now() - lastSend >= SSE_PING_MS && !closed) {
            await stream.writeSSE({ event: 'ping', data: '{}' });
            lastSend = Date.now();
          }
        }
        off();
      });
    });
}
