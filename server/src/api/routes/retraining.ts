// Retraining API: per-model policies, manual retrains (202 + job id), and a job's status and gate verdict.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';
import type { RetrainingPolicyInput } from '../../retraining/retraining-policy.ts';
import type { RetrainingService } from '../../retraining/retraining-service.ts';
import { respond } from '../schemas/respond.ts';
import { RetrainingPolicy, RetrainJob } from '../schemas/monitoring.ts';

export interface RetrainingRouteDeps {
  retraining: RetrainingService;
}

/** The body is checked by the service (INVALID_RETRAINING_POLICY names the field), not by the route's validator. */
const PolicyBody = z.record(z.string(), z.unknown()).openapi({ description: 'A retraining policy: trigger, data, train, gate, after' });
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
        request: { params: Name, body: { content: { 'application/json': { schema: PolicyBody } } } }, responses: respond(200, 'the stored policy, defaults filled in', RetrainingPolicy),
      }),
      async (c) => c.json(r.setPolicy(c.req.valid('param').name, c.req.valid('json') as RetrainingPolicyInput), 200),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining-policy', summary: 'The retraining policy of a model', request: { params: Name }, responses: respond(200, 'policy', RetrainingPolicy) }),
      async (c) => c.json(r.policy(c.req.valid('param').name), 200),
    )
    .openapi(
      createRoute({
        method: 'post', path: '/models/{name}/retrain', summary: 'Retrain the champion on field samples and gate the challenger (runs in the background)',
        request: { params: Name }, responses: respond(202, 'the started (or already running) job', RetrainJob),
      }),
      async (c) => c.json(r.start(c.req.valid('param').name, c.get('actor').id), 202),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining', summary: 'Retrain jobs of a model in this server process, newest first', request: { params: Name }, responses: respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) })) }),
      async (c) => c.json({ jobs: r.list(c.req.valid('param').name) }, 200),
    )
    .openapi(
      createRoute({
        method: 'get', path: '/retraining/{id}', summary: 'A retrain job: status, dataset lineage, challenger and the gate verdict',
        request: { params: z.object({ id: z.string().min(1).max(64) }) }, responses: respond(200, 'job', RetrainJob),
      }),
      async (c) => c.json(await r.get(c.req.valid('param').id), 200),
    );
}
