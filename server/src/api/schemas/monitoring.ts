// Response schemas of monitoring (series, drift, alerts) and retraining (policies, jobs).
import { z } from '@hono/zod-openapi';
import { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { FEEDBACK_SOURCES } from '../../retraining/field-sample-store.ts';
import { RETRAIN_STATUSES } from '../../retraining/retrain-job.ts';

const Estimate = z.object({ estimate: z.number(), low: z.number(), high: z.number(), n: z.number() });
const Histogram = z.object({ edges: z.array(z.number()), counts: z.array(z.number()) });
const Level = z.enum(['ok', 'warn', 'alert']);

/** One bucket of one model; only the requested metrics are present. */
const SeriesPoint = z.object({
  t: z.string(),
  windows: z.number(),
  requests: z.number().optional(),
  errors: z.object({ count: z.number(), rate: z.number().nullable() }).optional(),
  latency: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() }).optional(),
  predictions: z.object({ counts: z.array(z.number()), shares: z.array(z.number()), labels: z.array(z.string()).nullable() }).optional(),
  confidence: z.object({ mean: z.number().nullable(), histogram: Histogram.nullable() }).optional(),
  drift: z.record(z.string(), z.object({ psi: z.number(), js: z.number(), n: z.number() })).optional(),
  estimatedAccuracy: Estimate.nullable().optional(),
  fieldAccuracy: z.object({ overall: Estimate.nullable(), byClass: z.array(Estimate.nullable()).nullable() }).optional(),
  shadow: z
    .object({ requests: z.number(), errors: z.number(), agreementRate: z.number().nullable(), latencyP95Ms: z.number().nullable() })
    .optional(),
});

export const SeriesAnswer = z.object({
  scope: z.string(),
  id: z.string().optional().openapi({ description: '`*` for the fleet' }),
  bucket: z.enum(['minute', 'hour', 'day']).openapi({ description: 'minute (ranges up to 6 h), hour or day' }),
  from: z.string(),
  to: z.string(),
  series: z.array(z.object({ model: z.string(), points: z.array(SeriesPoint) })),
});

export const DriftAnswer = z.object({
  config: z.object({
    minSamples: z.number(),
    psiWarn: z.number(),
    psiAlert: z.number(),
    fdr: z.number(),
    raiseAfter: z.number(),
    clearAfter: z.number(),
    psiEpsilon: z.number(),
    minExpected: z.number(),
    baselineSamples: z.number(),
  }),
  streams: z.array(
    z.object({
      cohort: z.string(),
      model: z.string(),
      stream: z.string(),
      against: z.enum(['reference', 'learning', 'baseline']),
      psi: z.number().nullable(),
      js: z.number().nullable(),
      pValue: z.number().nullable(),
      level: Level.nullable(),
      alerting: z.boolean(),
      windowsTested: z.number(),
      pending: z.number(),
      since: z.string().nullable(),
      lastWindowEnd: z.string().nullable(),
    }),
  ),
});

export const Alert = z
  .object({
    id: z.string(),
    cohort: z.string(),
    model: z.string(),
    features: z.array(
      z.object({
        name: z.string(),
        psi: z.number(),
        js: z.number(),
        pValue: z.number(),
        level: Level,
        peakPsi: z.number(),
        since: z.string(),
        active: z.boolean(),
      }),
    ),
    severity: z.enum(['warning', 'critical']),
    since: z.string(),
    windows: z.number(),
    state: z.enum(['open', 'resolved']),
    openedAt: z.string(),
    updatedAt: z.string(),
    resolvedAt: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
  })
  .openapi('Alert');

export { RetrainingPolicy };

const Accuracies = z.object({ field: z.number().nullable(), test: z.number().nullable() });

export const RetrainJob = z
  .object({
    id: z.string(),
    model: z.string(),
    status: z.enum(RETRAIN_STATUSES).openapi({ description: 'interrupted: the server process running it stopped first (error says so)' }),
    trigger: z.string(),
    actor: z.string(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    dataset: z
      .object({ digest: z.string(), name: z.string(), parents: z.array(z.string()), fieldRows: z.number(), holdoutRows: z.number() })
      .nullable(),
    champion: z.string().nullable(),
    challenger: z.string().nullable(),
    runId: z.string().nullable(),
    verdict: z
      .object({
        blessed: z.boolean(),
        failures: z.array(z.string()),
        margin: z.number(),
        tolerance: z.number(),
        fieldDelta: z.number().nullable(),
        testDelta: z.number().nullable(),
        input: z.object({ champion: Accuracies, challenger: Accuracies, parityPassed: z.boolean() }),
      })
      .nullable(),
    canary: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi('RetrainJob');

export const FieldSampleInfo = z
  .object({
    deviceId: z.string(),
    predictionId: z.string(),
    cohorts: z.array(z.string()),
    model: z.string(),
    shape: z.array(z.number()),
    prediction: z.number(),
    confidence: z.number(),
    label: z.number().nullable(),
    source: z.enum(FEEDBACK_SOURCES).nullable().openapi({
      description:
        "where the label came from: app (agent.feedback), local-api (the agent's POST /v1/feedback), operator (set on the server), unknown (an older agent); null while unlabelled",
    }),
    at: z.string(),
    inputBytes: z.number(),
  })
  .openapi('FieldSample');
