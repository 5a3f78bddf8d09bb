// Sweeps: start a grid or random search, and read its trials ranked on the validation split.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import type { AppServices } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';
import { StartRun } from './runs.ts';
import { jsonBody } from '../schemas/respond.ts';
import { Sweep, SweepRanking } from '../schemas/registry.ts';

const StartSweep = StartRun.extend({
  method: z.enum(['grid', 'random']),
  space: z.record(z.string(), z.array(z.union([z.number(), z.string()])).min(1)),
  trials: z.number().int().min(1).max(200).optional(),
  concurrency: z.number().int().min(1).max(8).optional(),
  seed: z.number().int().optional(),
});

export function sweepRoutes(s: AppServices) {
  const app = new OpenAPIHono<AppEnv>();
  app.post('/sweeps', requireRole('operator'));
  return app
    .openapi(
      createRoute({
        method: 'post', path: '/sweeps', summary: 'Start a hyperparameter sweep (every trial validated before any trains)',
        request: { body: { content: { 'application/json': { schema: StartSweep } } } },
        responses: { 202: { description: 'started', ...jsonBody(Sweep) } },
      }),
      async (c) => c.json(await s.sweeps.start(c.req.valid('json'), c.get('actor').id), 202),
    )
    .openapi(
      createRoute({
        method: 'get', path: '/sweeps/{id}', summary: 'A sweep and its trials ranked by validation accuracy',
        request: { params: z.object({ id: z.string() }) },
        responses: { 200: { description: 'ranking', ...jsonBody(SweepRanking) } },
      }),
      async (c) => c.json(await s.sweeps.ranking(c.req.valid('param').id), 200),
    );
}
