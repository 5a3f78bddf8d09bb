// Response schemas of the data → train → register half: datasets, runs, sweeps, models, conversion.
// The route modules answer with these, so a domain field renamed without its schema fails to compile.
import { z } from '@hono/zod-openapi';

const Json = z.record(z.string(), z.unknown());
const Digests = z.record(z.string(), z.string());

export const Dataset = z
  .object({
    digest: z.string(),
    name: z.string(),
    bytes: z.number(),
    rows: z.number(),
    featureShape: z.array(z.number()),
    featureNames: z.array(z.string()),
    classes: z.array(z.string()),
    report: z.unknown(),
    parents: z.array(z.string()),
    source: z.string(),
    createdAt: z.string(),
  })
  .openapi('Dataset');

export const Epoch = z.object({
  epoch: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number(),
  valAccuracy: z.number(),
  durationMs: z.number(),
  samplesPerSec: z.number(),
});

export const Run = z
  .object({
    id: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    model: z.string(),
    sweepId: z.string().nullable(),
    datasetDigest: z.string(),
    datasetName: z.string(),
    splitSeed: z.number(),
    spec: z.unknown(),
    hyper: Json,
    environment: Json,
    history: z.array(Epoch),
    metrics: Json.nullable(),
    artifacts: Digests,
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    createdBy: z.string(),
  })
  .openapi('Run');

export const RunWithVersion = Run.extend({
  modelVersion: z.number().nullable().openapi({ description: 'Registry version the run registered, if any' }),
});

export const Comparison = z.object({
  a: z.string(),
  b: z.string(),
  rows: z.array(z.object({ field: z.string(), a: z.unknown(), b: z.unknown(), differs: z.boolean() })),
});

export const Sweep = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    model: z.string(),
    config: Json,
    runIds: z.array(z.string()),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi('Sweep');

export const SweepRanking = z.object({
  sweep: Sweep,
  trials: z.array(
    z.object({
      rank: z.number(),
      runId: z.string(),
      status: z.string(),
      hyper: Json,
      valAccuracy: z.number().nullable(),
      testAccuracy: z.number().nullable(),
    }),
  ),
});

export const ModelVersion = z
  .object({
    model: z.string(),
    version: z.number(),
    runId: z.string().nullable(),
    format: z.enum(['tfjs', 'onnx']),
    artifacts: Digests,
    signature: z.unknown(),
    metrics: Json.nullable(),
    quantization: Json.nullable(),
    tags: z.array(z.string()),
    aliases: z.array(z.string()),
    createdAt: z.string(),
    description: z.string(),
  })
  .openapi('ModelVersion');

export const ModelSummary = z.object({ name: z.string(), latestVersion: z.number(), aliases: z.record(z.string(), z.number()) });

export const AliasMove = z
  .object({
    model: z.string(),
    alias: z.string(),
    fromVersion: z.number().nullable(),
    toVersion: z.number(),
    actor: z.string(),
    reason: z.string(),
    at: z.string(),
  })
  .openapi('AliasMove');

export const ModelDetail = z.object({ name: z.string(), versions: z.array(ModelVersion), aliasHistory: z.array(AliasMove) });

const Artifact = z.object({ digest: z.string(), path: z.string().nullable(), bytes: z.number(), accuracy: z.number().nullable() });

export const ConversionOutcome = z
  .object({
    model: z.string(),
    version: z.number(),
    float: Artifact,
    int8: Artifact.nullable(),
    top1Agreement: z.number().nullable(),
    gate: z.unknown(),
    evaluatedOn: z.string().optional().openapi({ description: 'What int8 was compared with float on (quantize only)' }),
    report: z.unknown(),
  })
  .openapi('ConversionOutcome');
