// Retraining API: per-model policies, manual retrains (202 + job id), jobs (status, gate verdict, history
// across restarts), and field samples with their labels' sources (listing, operator labels).
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
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
const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .openapi({ description: 'most returned, newest first (default 100, at most 1000)' });
const JobQuery = z.object({ model: z.string().min(1).max(128).optional(), status: z.enum(RETRAIN_STATUSES).optional(), limit: Limit });
const SampleQuery = z.object({
  model: z.string().min(1).max(128).optional(),
  device: z.string().min(1).max(128).optional(),
  source: z.enum(FEEDBACK_SOURCES).optional(),
  labelled: z.enum(['true', 'false']).optional(),
  limit: Limit,
});
const LabelsBody = z
  .object({
    labels: z
      .array(
        z
          .object({
            deviceId: z.string().min(1).max(128),
            predictionId: z.string().min(1).max(128),
            label: z.number().int().nonnegative().max(1_000_000),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict()
  .openapi({ description: 'Labels for stored field samples; they count as source `operator`' });

export function retrainingRoutes(d: RetrainingRouteDeps) {
  const r = d.retraining;
  return (
    routeApp([
      { role: 'operator', methods: ['PUT'], paths: ['/models/:name/retraining-policy'] },
      { role: 'operator', methods: ['POST'], paths: ['/models/:name/retrain'] },
      { role: 'operator', methods: ['POST'], paths: ['/retraining/samples/labels'] },
    ])
      .openapi(
        route(
          'put',
          '/models/{name}/retraining-policy',
          'Set the retraining policy of a model (trigger, data, train, gate, after)',
          { params: Name, body: PolicyBody },
          respond(200, 'the stored policy, defaults filled in', RetrainingPolicy),
        ),
        async (c) => c.json(await r.setPolicy(c.req.valid('param').name, c.req.valid('json') as RetrainingPolicyInput), 200),
      )
      .openapi(
        route(
          'get',
          '/models/{name}/retraining-policy',
          'The retraining policy of a model',
          { params: Name },
          respond(200, 'policy', RetrainingPolicy),
        ),
        async (c) => c.json(await r.policy(c.req.valid('param').name), 200),
      )
      .openapi(
        route(
          'post',
          '/models/{name}/retrain',
          'Retrain the champion on field samples and gate the challenger (runs in the background)',
          { params: Name },
          respond(202, 'the started (or already running) job', RetrainJob),
        ),
        async (c) => c.json(await r.start(c.req.valid('param').name, c.get('actor').id), 202),
      )
      .openapi(
        route(
          'get',
          '/models/{name}/retraining',
          'Retrain jobs of a model (every server process, across restarts), newest first',
          { params: Name },
          respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) })),
        ),
        async (c) => c.json({ jobs: await r.list({ model: c.req.valid('param').name }) }, 200),
      )
      // Before /retraining/{id}, which would otherwise take `jobs` and `samples` for job ids.
      .openapi(
        route(
          'get',
          '/retraining/jobs',
          'Retrain jobs, newest first: running, ended, and interrupted by a server stop (with the reason)',
          { query: JobQuery },
          respond(200, 'jobs', z.object({ jobs: z.array(RetrainJob) })),
        ),
        async (c) => {
          const q = c.req.valid('query');
          return c.json({ jobs: await r.list({ model: q.model, status: q.status, limit: q.limit }) }, 200);
        },
      )
      .openapi(
        route(
          'get',
          '/retraining/samples',
          "Field samples, newest first, with each label's source (app, local-api, operator, unknown); inputs left out",
          { query: SampleQuery },
          respond(200, 'samples', z.object({ samples: z.array(FieldSampleInfo) })),
        ),
        async (c) => {
          const q = c.req.valid('query');
          const samples = await r.samples({
            model: q.model,
            deviceId: q.device,
            source: q.source,
            labelled: q.labelled === undefined ? undefined : q.labelled === 'true',
            limit: q.limit ?? 100,
          });
          return c.json({ samples }, 200);
        },
      )
      .openapi(
        route(
          'post',
          '/retraining/samples/labels',
          "Label stored field samples as an operator (source `operator`, replacing a device's label)",
          { body: LabelsBody },
          respond(200, 'how many samples were found and labelled', z.object({ matched: z.number() })),
        ),
        async (c) => c.json({ matched: await r.labelSamples(c.req.valid('json').labels, c.get('actor').id) }, 200),
      )
      .openapi(
        route(
          'get',
          '/retraining/{id}',
          'A retrain job: status, dataset lineage, challenger and the gate verdict',
          { params: z.object({ id: z.string().min(1).max(64) }) },
          respond(200, 'job', RetrainJob),
        ),
        async (c) => c.json(await r.get(c.req.valid('param').id), 200),
      )
  );
}
