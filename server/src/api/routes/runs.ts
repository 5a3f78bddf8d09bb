// Training runs: start (validated before any worker starts), list, show, compare, cancel, and live progress over SSE.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { streamSSE } from 'hono/streaming';
import { notFound } from '../api-error.ts';
import type { AppServices } from '../app-env.ts';
import { compareRuns } from '../../runs/compare-runs.ts';
import { respond } from '../schemas/respond.ts';
import { Comparison, Run, RunWithVersion } from '../schemas/registry.ts';

export const StartRun = z.object({
  dataset: z.string().min(1).openapi({ example: 'mnist' }),
  model: z.string().optional(),
  spec: z.unknown().optional(),
  hyper: z.record(z.string(), z.unknown()).optional(),
  splitSeed: z.number().int().nonnegative().optional(),
  backend: z.enum(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']).optional(),
  description: z.string().max(1000).optional(),
});

export function runRoutes(s: AppServices) {
  return routeApp([{ role: 'operator', methods: ['POST'], paths: ['/runs', '/runs/*'] }])
    .openapi(
      route(
        'post',
        '/runs',
        'Start a training run (202: queued; follow /runs/{id}/events)',
        { body: StartRun },
        respond(202, 'queued', Run),
      ),
      async (c) => c.json(await s.runs.start(c.req.valid('json'), c.get('actor').id), 202),
    )
    .openapi(
      route(
        'get',
        '/runs',
        'List runs (newest first)',
        {
          query: z.object({
            sweep: z.string().optional(),
            model: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
        },
        respond(200, 'runs', z.object({ runs: z.array(Run) })),
      ),
      async (c) => {
        const q = c.req.valid('query');
        return c.json({ runs: await s.store.runs.list({ sweepId: q.sweep, model: q.model, limit: q.limit }) }, 200);
      },
    )
    .openapi(
      route(
        'get',
        '/runs/compare',
        'Two runs side by side: parameters, lineage and metrics, with differences marked',
        { query: z.object({ a: z.string(), b: z.string() }) },
        respond(200, 'comparison', Comparison),
      ),
      async (c) => {
        const { a, b } = c.req.valid('query');
        const [ra, rb] = await Promise.all([s.store.runs.get(a), s.store.runs.get(b)]);
        if (!ra) throw notFound('run', a);
        if (!rb) throw notFound('run', b);
        return c.json(compareRuns(ra, rb), 200);
      },
    )
    .openapi(
      route(
        'get',
        '/runs/{id}',
        'One run with its lineage, history and metrics',
        { params: z.object({ id: z.string() }) },
        respond(200, 'run', RunWithVersion),
      ),
      async (c) => {
        const r = await s.store.runs.get(c.req.valid('param').id);
        if (!r) throw notFound('run', c.req.valid('param').id);
        const version = (await s.store.models.listVersions(r.model)).find((v) => v.runId === r.id);
        return c.json({ ...r, modelVersion: version?.version ?? null }, 200);
      },
    )
    .openapi(
      route(
        'post',
        '/runs/{id}/cancel',
        'Cancel a queued or running run',
        { params: z.object({ id: z.string() }) },
        respond(200, 'cancelling', Run),
      ),
      async (c) => c.json(await s.runs.cancel(c.req.valid('param').id, c.get('actor').id), 200),
    )
    .get('/runs/:id/events', async (c) => {
      const id = c.req.param('id');
      const run = await s.store.runs.get(id);
      if (!run) throw notFound('run', id);
      return streamSSE(c, async (stream) => {
        let closed = false;
        const queue: string[] = [];
        let wake: (() => void) | null = null;
        const off = s.runs.events.on(id, (e) => {
          queue.push(JSON.stringify(e));
          wake?.();
        });
        stream.onAbort(() => {
          closed = true;
          wake?.();
        });
        // Replay what already happened so a late subscriber sees the whole history.
        for (const record of run.history)
          await stream.writeSSE({ event: 'epoch', data: JSON.stringify({ type: 'epoch', runId: id, record }) });
        await stream.writeSSE({
          event: 'status',
          data: JSON.stringify({ type: 'status', runId: id, status: run.status, error: run.error }),
        });
        let ended = ['succeeded', 'failed', 'cancelled'].includes(run.status);
        while (!closed && !ended) {
          if (queue.length === 0)
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 15_000);
            });
          wake = null;
          if (queue.length === 0) {
            await stream.writeSSE({ event: 'ping', data: '{}' });
            continue;
          }
          const msg = queue.shift()!;
          const e = JSON.parse(msg) as { type: string; status?: string };
          await stream.writeSSE({ event: e.type, data: msg });
          if (e.type === 'status' && ['succeeded', 'failed', 'cancelled'].includes(e.status!)) ended = true;
        }
        off();
      });
    });
}
