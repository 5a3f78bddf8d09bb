// Message schemas of the wire protocol [WIRE-2], validated on arrival by both ends.
import { z } from 'zod';

const v = z.literal(1);
const digest = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

/** A bundle named in a desired state [WIRE-2.2]. */
export const BundleRef = z.object({
  id: digest,
  model: z.string().min(1).max(128),
  version: z.string().min(1).max(64),
  sequence: z.number().int().positive(),
  manifestDigest: digest,
  bytes: count,
  rollback: z.boolean().optional(),
});
export type BundleRef = z.infer<typeof BundleRef>;

export const TelemetryPolicy = z.object({
  windowSec: z.number().positive().max(86_400),
  sampleRate: z.number().min(0).max(1),
  sampleBudgetBytes: count,
});
export type TelemetryPolicy = z.infer<typeof TelemetryPolicy>;

/** [WIRE-2.2]; `shadowRate` [WIRE-2.2.1] is optional and additive. */
export const DesiredState = z.object({
  v, rev: count, bundle: BundleRef.nullable(), telemetry: TelemetryPolicy, shadow: BundleRef.nullable(),
  shadowRate: z.number().min(0).max(1).optional(), issuedAt: z.string(),
});
export type DesiredState = z.infer<typeof DesiredState>;

export const DEPLOY_STATES = ['idle', 'downloading', 'verifying', 'staging', 'activating', 'probing', 'committing', 'rolling_back', 'failed'] as const;
export type DeployState = (typeof DEPLOY_STATES)[number];

/** [WIRE-2.3] */
export const ReportedState = z.object({
  v, agentVersion: z.string().max(64), runtime: z.string().max(64), state: z.enum(DEPLOY_STATES),
  model: z.object({ name: z.string(), version: z.string(), sequence: z.number().int() }).nullable(),
  bundleId: digest.nullable(), freeStorageBytes: count.nullable(), lastError: z.string().max(2000).nullable(), at: z.string(),
});
export type ReportedState = z.infer<typeof ReportedState>;

/** [WIRE-2.4] */
export const StatusEvent = z.object({
  v, seq: count, bundleId: digest.nullable(), from: z.enum(DEPLOY_STATES), to: z.enum(DEPLOY_STATES),
  event: z.string().max(64), reason: z.string().max(2000), at: z.string(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

const Histogram = z.object({ edges: z.array(z.number()).max(257), counts: z.array(count).max(256) });

/** [WIRE-2.5] one telemetry window. Counts only: bandwidth stays bounded whatever the traffic. */
export const TelemetryWindow = z.object({
  v, seq: count, start: z.string(), end: z.string(),
  model: z.object({ name: z.string(), version: z.string(), sequence: z.number().int() }).nullable(),
  requests: count, errors: count,
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number(), hist: Histogram }),
  predictions: z.array(count).max(1000),
  confidence: Histogram,
  /** Feature name → counts on the manifest's reference bins. */
  features: z.record(z.string(), z.array(count).max(256)),
  feedback: z.object({
    labelled: count, correct: count,
    /** Optional [WIRE-2.5.1]: the same counts split by true class (index = label index), for field accuracy per class. */
    byClass: z.object({ labelled: z.array(count).max(1000), correct: z.array(count).max(1000) }).optional(),
  }),
  shadow: z.object({
    model: z.object({ name: z.string(), version: z.string(), sequence: z.number().int() }),
    requests: count, errors: count, agreements: count, latencyP95Ms: z.number(),
  }).nullable(),
  /** Windows this agent dropped because its offline queue was full, since the last report. */
  dropped: count,
});
export type TelemetryWindow = z.infer<typeof TelemetryWindow>;

/** Sampled inputs with predictions (and labels, once known) for retraining. */
export const SampleBatch = z.object({
  v, seq: count,
  items: z.array(z.object({
    predictionId: z.string().max(64), input: z.string().max(1_000_000), shape: z.array(z.number().int()).max(8),
    prediction: z.number().int(), confidence: z.number(), label: z.number().int().nullable(), at: z.string(),
  })).max(1000),
});
export type SampleBatch = z.infer<typeof SampleBatch>;

/** [WIRE-2.6] */
export const Presence = z.object({ v, online: z.boolean(), session: count });
export type Presence = z.infer<typeof Presence>;

/** [WIRE-2.5] acknowledgements from the server. */
export const Ack = z.object({ v, kind: z.enum(['telemetry', 'samples']), seqs: z.array(count).max(10_000) });
export type Ack = z.infer<typeof Ack>;

/** [WIRE-2.7] */
export const ChunkRequest = z.object({
  v, cid: z.string().min(1).max(64), digest, offset: count.optional(), length: z.number().int().positive().optional(),
});
export type ChunkRequest = z.infer<typeof ChunkRequest>;

export const ChunkResponseHeader = z.object({
  v, cid: z.string(), digest, ok: z.boolean(), code: z.string().optional(), total: count.optional(), offset: count.optional(),
});
export type ChunkResponseHeader = z.infer<typeof ChunkResponseHeader>;

const MAX_ENVELOPE_MANIFEST_CHARS = 4_000_000;

/** [WIRE-2.7] the signed envelope a device fetches by `manifestDigest`. */
export const Envelope = z.object({
  v, manifest: z.string().max(MAX_ENVELOPE_MANIFEST_CHARS), signatures: z.array(z.object({ keyId: z.string().max(64), signature: z.string().max(200) })).min(1).max(8),
});

/**
 * Largest envelope a device downloads [WIRE-2.7.1]: the base64 manifest plus eight signatures and the
 * JSON around them fit with room to spare; anything bigger could never decode, so it is never buffered.
 */
export const MAX_ENVELOPE_BYTES = MAX_ENVELOPE_MANIFEST_CHARS + 64 * 1024;
export type Envelope = z.infer<typeof Envelope>;

/** [WIRE-3.3] where a device finds the broker. */
export const ConnectionInfo = z.object({
  v, prefix: z.string().min(1).max(128), mqtt: z.string().regex(/^mqtts?:\/\//).max(2000).nullable(), ws: z.string().regex(/^wss?:\/\//).max(2000).nullable(),
});
export type ConnectionInfo = z.infer<typeof ConnectionInfo>;

/** Parses JSON bytes against a schema; returns null (never throws) on anything invalid [WIRE-2.1]. */
export function decodeMessage<T>(schema: z.ZodType<T>, payload: Uint8Array | string): T | null {
  try {
    const text = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload);
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export const encodeMessage = (m: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(m));
