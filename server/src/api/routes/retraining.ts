// Retraining API: per-model policies, manual retrains (202 + job id), jobs (status, gate verdict, history
// across restarts), and field samples with their labels' sources (listing, operator labels).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';
import type { RetrainingPolicyInput } from '../../retraining/retraining-policy.ts';
import type { RetrainingService } from '../../retraining/retraining-service.ts';
import { respond } from '../schemas/respond.ts';
import { FieldSampleInfo, RetrainingPolicy, RetrainJob } from '../schemas/monitoring.ts';
import { FEEDBACK_SOURCES } from '../../retraining/field-sample-store.ts';
import { RETRAIN_STATUSES } from '../../retraining/retrain-job.ts';

export interface RetrainingRouteDeps {
  retraining: RetrainingService;
}

/** The body is checked by the service (INVALID_RETRAINING_POLICY names the field), not by the route's validator. */
const PolicyBody = z.record(z.string(), z.unknown()).openapi({ description: 'A retraining policy: trigger, data, train, gate, after' });
const Name = z.object({ name: z.string().min(1).max(64) });
const Limit = z.coerce.number().int().min(1).max(1000).optional().openapi({ description: 'most returned, newest first (default 100, at most 1000)' });
const JobQuery = z.object({ model: z.string().min(1).max(128).optional(), status: z.enum(RETRAIN_STATUSES).optional(), limit: Limit });
const SampleQuery = z.object({
  model: z.string().min(1).max(128).optional(), device: z.string().min(1).max(128).optional(), source: z.enum(FEEDBACK_SOURCES).optional(),
  labelled: z.enum(['true', 'false']).optional(), limit: Limit,
});
const LabelsBody = z.object({
  labels: z.array(z.object({ deviceId: z.string().min(1).max(128), predictionId: z.string().min(1).max(128), label: z.number().int().nonnegative().max(1_000_000) }).strict())
    .min(1).max(10_000),
}).strict().openapi({ description: 'Labels for stored field samples; they count as source `operator`' });

export function retrainingRoutes(d: RetrainingRouteDeps) {
  const r = d.retraining;
  const app = new OpenAPIHono<AppEnv>();
  app.put('/models/:name/retraining-policy', requireRole('operator'));
  app.post('/models/:name/retrain', requireRole('operator'));
  app.post('/retraining/samples/labels', requireRole('operator'));
  return app
    .openapi(
      createRoute({
        method: 'put', path: '/models/{name}/retraining-policy', summary: 'Set the retraining policy of a model (trigger, data, train, gate, after)',
        request: { params: Name, body: { content: { 'application/json': { schema: PolicyBody } } } }, responses: respond(200, 'the stored policy, defaults filled in', RetrainingPolicy),
      }),
      async (c) => c.json(await r.setPolicy(c.req.valid('param').name, c.req.valid('json') as RetrainingPolicyInput), 200),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining-policy', summary: 'The retraining policy of a model', request: { params: Name }, responses: respond(200, 'policy', RetrainingPolicy) }),
      async (c) => c.json(await r.policy(c.req.valid('param').name), 200),
    )
    .openapi(
      createRoute({
        method: 'post', path: '/models/{name}/retrain', summary: 'Retrain the champion on field samples and gate the challenger (runs in the background)',
        request: { params: Name }, responses: respond(202, 'the started (or already running) job', RetrainJob),
      }),
      async (c) => c.json(await r.start(c.req.valid('param').name, c.get('actor').id), 202),
    )
    .openapi(
      createRoute({ method: 'get', path: '/models/{name}/retraining', summary: 'Retrain jobs of a model (every server process, across restarts), newest first', request: { params: Name }, responses: respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) })) }),
      async (c) => c.json({ jobs: await r.list({ model: c.req.valid('param').name }) }, 200),
    )
    // Before /retraining/{id}, which would otherwise take `jobs` and `samples` for job ids.
    .openapi(
      createRoute({
        method: 'get', path: '/retraining/jobs', summary: 'Retrain jobs, newest first: running, ended, and interrupted by a server stop (with the reason)',
        request: { query: JobQuery }, responses: respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) })),
      }),
      async (c) => {
        const q = c.req.valid('query');
        return c.json({ jobs: await r.list({ model: q.model, status: q.status, limit: q.limit }) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get', path: '/retraining/samples', summary: "Field samples, newest first, with each label's source (app, local-api, operator, unknown); inputs left out",
        request: { query: SampleQuery }, responses: respond(200, 'samples', z.object({ samples: z.array(FieldSampleInfo) })),
      }),
      async (c) => {
        const q = c.req.valid('query');
        const samples = await r.samples({ model: q.model, deviceId: q.device, source: q.source, labelled: q.labelled === undefined ? undefined : q.labelled === 'true', limit: q.limit ?? 100 });
        return c.json({ samples }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post', path: '/retraining/samples/labels', summary: "Label stored field samples as an operator (source `operator`, replacing a device's label)",
        request: { body: { content: { 'application/json': { schema: LabelsBody } } } }, responses: respond(200, 'how many samples were found and labelled', z.object({ matched: z.number() })),
      }),
      async (c) => c.json({ matched: await r.labelSamples(c.req.valid('json').labels, c.get('actor').id) }, 200),
    )
    .openapi(
      createRoute({
        method: 'get', path: '/retraining/{id}', summary: 'A retrain job: status, dataset lineage, challenger and the gate verdict',
        request: { params: z.object({ id: z.string().min(1).max(64) }) }, responses: respond(200, 'job', RetrainJob),
      }),
      async (c) => c.json(await r.get(c.req.valid('param').id), 200),
    );
}
