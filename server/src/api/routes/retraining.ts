// Retraining API: per-model policies, manual retrains (202 + job id), and a job's status and gate verdict.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
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
  return routeApp([
    { role: 'operator', methods: ['PUT'], paths: ['/models/:name/retraining-policy'] },
    { role: 'operator', methods: ['POST'], paths: ['/models/:name/retrain'] },
  ])
    .openapi(
      route('put', '/models/{name}/retraining-policy', 'Set the retraining policy of a model (trigger, data, train, gate, after)',
        { params: Name, body: PolicyBody }, respond(200, 'the stored policy, defaults filled in', RetrainingPolicy)),
      async (c) => c.json(r.setPolicy(c.req.valid('param').name, c.req.valid('json') as RetrainingPolicyInput), 200),
    )
    .openapi(
      route('get', '/models/{name}/retraining-policy', 'The retraining policy of a model', { params: Name }, respond(200, 'policy', RetrainingPolicy)),
      async (c) => c.json(r.policy(c.req.valid('param').name), 200),
    )
    .openapi(
      route('post', '/models/{name}/retrain', 'Retrain the champion on field samples and gate the challenger (runs in the background)',
        { params: Name }, respond(202, 'the started (or already running) job', RetrainJob)),
      async (c) => c.json(r.start(c.req.valid('param').name, c.get('actor').id), 202),
    )
    .openapi(
      route('get', '/models/{name}/retraining', 'Retrain jobs of a model in this server process, newest first', { params: Name }, respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) }))),
      async (c) => c.json({ jobs: r.list(c.req.valid('param').name) }, 200),
    )
    .openapi(
      route('get', '/retraining/{id}', 'A retrain job: status, dataset lineage, challenger and the gate verdict',
        { params: z.object({ id: z.string().min(1).max(64) }) }, respond(200, 'job', RetrainJob)),
      async (c) => c.json(await r.get(c.req.valid('param').id), 200),
    );
}
