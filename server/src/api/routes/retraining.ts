// Retraining API: per-model policies, manual retrains (202 + job id), and a job's status and gate verdict.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';
import type { RetrainingService } from '../../retraining/retraining-service.ts';

export interface RetrainingRouteDeps {
  retraining: RetrainingService;
}

const Obj = z.record(z.string(), z.unknown());
const json = (status: 200 | 202, description: string) => ({ [status]: { description, content: { 'application/json': { schema: Obj } } } });
const Name = z.object({ name: z.string().min(1).max(64) });

export function retrainingRoutes(d: RetrainingRouteDeps) {
  const r = d.retraining;
  const app = new OpenAPIHono<AppEnv>();
  app.put('/models/:name/retraining-policy', requireRole('operator'));
  app.post('/models/:name/retrain', requireRole('operator'));
  return app
    .openapi(
      createRoute({
        method: 'put', path: '/models/{name}/retraining-policy', summary: 'Set the retraining policy of a model (trigger, data, train, gate, after)',
        request: { params: Name, body: { content: { 'application/json': { schema: Obj } } } }, responses: json(200, 'the stored policy, defaults filled in'),
      }),
      async (c) => c.json(r.setPolicy(c.req.valid('param').name, c.req.valid('json') as never) as never, 200),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining-policy', summary: 'The retraining policy of a model', request: { params: Name }, responses: json(200, 'policy') }),
      async (c) => c.json(r.policy(c.req.valid('param').name) as never, 200),
    )
    .openapi(
      createRoute({
        method: 'post', path: '/models/{name}/retrain', summary: 'Retrain the champion on field samples and gate the challenger (runs in the background)',
        request: { params: Name }, responses: json(202, 'the started (or already running) job'),
      }),
      async (c) => c.json(r.start(c.req.valid('param').name, c.get('actor').id) as never, 202),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining', summary: 'Retrain jobs of a model in this server process, newest first', request: { params: Name }, responses: json(200, '{ jobs }') }),
      async (c) => c.json({ jobs: r.list(c.req.valid('param').name) } as never, 200),
    )
    .openapi(
      createRoute({
        method: 'get', path: '/retraining/{id}', summary: 'A retrain job: status, dataset lineage, challenger and the gate verdict',
        request: { params: z.object({ id: z.string().min(1).max(64) }) }, responses: json(200, 'job'),
      }),
      async (c) => c.json(await r.get(c.req.valid('param').id) as never, 200),
    );
}
