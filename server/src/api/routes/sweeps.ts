// Sweeps: start a grid or random search, and read its trials ranked on the validation split.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import type { AppServices } from '../app-env.ts';
import { StartRun } from './runs.ts';
import { respond } from '../schemas/respond.ts';
import { Sweep, SweepRanking } from '../schemas/registry.ts';

const StartSweep = StartRun.extend({
  method: z.enum(['grid', 'random']),
  space: z.record(z.string(), z.array(z.union([z.number(), z.string()])).min(1)),
  trials: z.number().int().min(1).max(200).optional(),
  concurrency: z.number().int().min(1).max(8).optional(),
  seed: z.number().int().optional(),
});

export function sweepRoutes(s: AppServices) {
  return routeApp([{ role: 'operator', methods: ['POST'], paths: ['/sweeps'] }])
    .openapi(
      route(
        'post',
        '/sweeps',
        'Start a hyperparameter sweep (every trial validated before any trains)',
        { body: StartSweep },
        respond(202, 'started', Sweep),
      ),
      async (c) => c.json(await s.sweeps.start(c.req.valid('json'), c.get('actor').id), 202),
    )
    .openapi(
      route(
        'get',
        '/sweeps/{id}',
        'A sweep and its trials ranked by validation accuracy',
        { params: z.object({ id: z.string() }) },
        respond(200, 'ranking', SweepRanking),
      ),
      async (c) => c.json(await s.sweeps.ranking(c.req.valid('param').id), 200),
    );
}
