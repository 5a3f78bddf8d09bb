// Message schemas of the wire protocol [WIRE-2], validated on arrival by both ends.
import { z } from 'zod';
import { UpdatePolicy, WAIT_KINDS } from './update-policy.ts';

const v = z.literal(1);
const digest = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

/**
 * Bounds on what one device message may carry [WIRE-2.9]: every string and array a device sends is
 * capped, so no single message can make the server store, index or sum more than this.
 */
export const WIRE_LIMITS = Object.freeze({
  /** Model and feature names (as in a bundle reference). */
  nameChars: 128,
  /** Model versions. */
  versionChars: 64,
  /** Ids a device makes up: chunk request `cid`, `predictionId`, status `event`, error `code`. */
  idChars: 64,
  /** Timestamps (ISO 8601 fits in 30). */
  timeChars: 40,
  /** Free-text reasons and errors. */
  reasonChars: 2000,
  /** Classes a window counts (`predictions`, `feedback.byClass`). */
  classes: 1000,
  /** Histogram bins (latency, confidence, each feature). */
  bins: 256,
  /** Features in one window. */
  features: 256,
});

/** A string of at most `max` characters, with an error that says so. */
const text = (max: number, min = 0) => z.string().min(min, `must not be empty`).max(max, `at most ${max} characters`);
const time = text(WIRE_LIMITS.timeChars, 1);
/** A model as a device names it: what it serves, or its shadow. */
const ModelRef = z.object({ name: text(WIRE_LIMITS.nameChars, 1), version: text(WIRE_LIMITS.versionChars, 1), sequence: z.number().int() });

/** A bundle named in a desired state [WIRE-2.2]. */
export const BundleRef = z.object({
  id: digest,
  model: text(WIRE_LIMITS.nameChars, 1),
  version: text(WIRE_LIMITS.versionChars, 1),
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

/** [WIRE-2.2.3] a signed trust update (SPEC §6.6); the agent verifies the signatures itself. */
export const TrustUpdateMessage = z.object({
  v,
  version: z.number().int().positive(),
  keys: z
    .array(z.string().regex(/^[0-9a-f]{64}$/))
    .min(1)
    .max(16),
  threshold: z.number().int().positive().max(16),
  issuedAt: time,
  signatures: z
    .array(z.object({ keyId: z.string().regex(/^[0-9a-f]{16}$/), signature: z.string().regex(/^[0-9a-f]{128}$/) }))
    .min(1)
    .max(16),
});

/**
 * [WIRE-2.2]; `shadowRate` [WIRE-2.2.1] is optional and additive, as are `update` (the update policy
 * [WIRE-2.2.2]), `retry` (an operator's retry nonce: a new value tries a bundle that failed here again)
 * and `trust` (a signed trust update [WIRE-2.2.3]).
 */
export const DesiredState = z.object({
  v,
  rev: count,
  bundle: BundleRef.nullable(),
  telemetry: TelemetryPolicy,
  shadow: BundleRef.nullable(),
  shadowRate: z.number().min(0).max(1).optional(),
  update: UpdatePolicy.optional(),
  retry: count.optional(),
  trust: TrustUpdateMessage.optional(),
  issuedAt: time,
});
export type DesiredState = z.infer<typeof DesiredState>;

/** `waiting_download` and `waiting_activation` [WIRE-4.2]: the update waits on a condition, a window or a lock. */
export const DEPLOY_STATES = [
  'idle',
  'waiting_download',
  'downloading',
  'verifying',
  'staging',
  'waiting_activation',
  'activating',
  'probing',
  'committing',
  'rolling_back',
  'failed',
] as const;
export type DeployState = (typeof DEPLOY_STATES)[number];

/** What a device waits on [WIRE-2.4.2]: the kind, why in words, since when, and until when if it knows. */
export const Waiting = z.object({
  kind: z.enum(WAIT_KINDS),
  reason: text(WIRE_LIMITS.reasonChars),
  since: time,
  until: time.optional(),
});
export type Waiting = z.infer<typeof Waiting>;

/** Download progress of the update in flight [WIRE-2.3.1]. */
export const UpdateProgress = z.object({ bytes: count, totalBytes: count, chunks: count, totalChunks: count });
export type UpdateProgress = z.infer<typeof UpdateProgress>;

/** [WIRE-2.3]; `update` [WIRE-2.3.1] is optional and additive. */
export const ReportedState = z.object({
  v,
  agentVersion: text(64),
  runtime: text(64),
  state: z.enum(DEPLOY_STATES),
  model: ModelRef.nullable(),
  /** [WIRE-2.3] additive: the execution provider serving `model` (`cpu`, `webgpu`, `wasm`). */
  executionProvider: text(32).optional(),
  bundleId: digest.nullable(),
  freeStorageBytes: count.nullable(),
  lastError: text(WIRE_LIMITS.reasonChars).nullable(),
  at: time,
  update: z
    .object({ bundleId: digest, waiting: Waiting.nullable(), progress: UpdateProgress.nullable(), attempt: count })
    .nullable()
    .optional(),
});
export type ReportedState = z.infer<typeof ReportedState>;

/** [WIRE-2.4]; `waiting` [WIRE-2.4.2], `permanent` and `retryAt` [WIRE-2.4.3] are optional and additive. */
export const StatusEvent = z.object({
  v,
  seq: count,
  bundleId: digest.nullable(),
  from: z.enum(DEPLOY_STATES),
  to: z.enum(DEPLOY_STATES),
  event: text(WIRE_LIMITS.idChars),
  reason: text(WIRE_LIMITS.reasonChars),
  at: time,
  waiting: Waiting.optional(),
  permanent: z.boolean().optional(),
  retryAt: time.optional(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

const Histogram = z.object({ edges: z.array(z.number()).max(WIRE_LIMITS.bins + 1), counts: z.array(count).max(WIRE_LIMITS.bins) });
const perClass = z.array(count).max(WIRE_LIMITS.classes, `at most ${WIRE_LIMITS.classes} classes`);

/** [WIRE-2.5] one telemetry window. Counts only: bandwidth stays bounded whatever the traffic. */
export const TelemetryWindow = z.object({
  v,
  seq: count,
  start: time,
  end: time,
  model: ModelRef.nullable(),
  requests: count,
  errors: count,
  /**
   * Optional [WIRE-2.5.2]: requests refused as bad input (wrong row size, not numbers) before the model
   * ran; counted in neither `requests` nor `errors`. Absent from older agents, which counted them as both.
   */
  clientErrors: count.optional(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number(), hist: Histogram }),
  predictions: perClass,
  confidence: Histogram,
  /** Feature name → counts on the manifest's reference bins. */
  features: z
    .record(z.string(), z.array(count).max(WIRE_LIMITS.bins))
    .refine((f) => Object.keys(f).length <= WIRE_LIMITS.features, `at most ${WIRE_LIMITS.features} features`)
    .refine(
      (f) => Object.keys(f).every((k) => k.length >= 1 && k.length <= WIRE_LIMITS.nameChars),
      `feature names have 1 to ${WIRE_LIMITS.nameChars} characters`,
    ),
  feedback: z.object({
    labelled: count,
    correct: count,
    /** Optional [WIRE-2.5.1]: the same counts split by true class (index = label index), for field accuracy per class. */
    byClass: z.object({ labelled: perClass, correct: perClass }).optional(),
  }),
  shadow: z
    .object({
      model: ModelRef,
      requests: count,
      errors: count,
      agreements: count,
      latencyP95Ms: z.number(),
    })
    .nullable(),
  /** Windows this agent dropped because its offline queue was full, since the last report. */
  dropped: count,
});
export type TelemetryWindow = z.infer<typeof TelemetryWindow>;

/**
 * Where a device's label came from [WIRE-2.12.1]: `app` (the embedding app called `agent.feedback`),
 * `local-api` (the agent's local `POST /v1/feedback`). Labels set on the server are the server's own.
 */
export const DEVICE_FEEDBACK_SOURCES = ['app', 'local-api'] as const;
export type DeviceFeedbackSource = (typeof DEVICE_FEEDBACK_SOURCES)[number];

/** Sampled inputs with predictions (and labels, once known) for retraining [WIRE-2.12]. */
export const SampleBatch = z.object({
  v,
  seq: count,
  items: z
    .array(
      z.object({
        predictionId: text(WIRE_LIMITS.idChars),
        input: text(1_000_000),
        shape: z.array(z.number().int()).max(8),
        prediction: z.number().int(),
        confidence: z.number(),
        label: z.number().int().nullable(),
        at: time,
        /** With a label: where it came from. Optional and additive: older agents send none (the server stores `unknown`). */
        source: z.enum(DEVICE_FEEDBACK_SOURCES).optional(),
      }),
    )
    .max(1000),
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
  v,
  cid: text(WIRE_LIMITS.idChars, 1),
  digest,
  offset: count.optional(),
  length: z.number().int().positive().optional(),
});
export type ChunkRequest = z.infer<typeof ChunkRequest>;

export const ChunkResponseHeader = z.object({
  v,
  cid: text(WIRE_LIMITS.idChars),
  digest,
  ok: z.boolean(),
  code: text(WIRE_LIMITS.idChars).optional(),
  total: count.optional(),
  offset: count.optional(),
});
export type ChunkResponseHeader = z.infer<typeof ChunkResponseHeader>;

const MAX_ENVELOPE_MANIFEST_CHARS = 4_000_000;

/** [WIRE-2.7] the signed envelope a device fetches by `manifestDigest`. */
export const Envelope = z.object({
  v,
  manifest: z.string().max(MAX_ENVELOPE_MANIFEST_CHARS),
  signatures: z
    .array(z.object({ keyId: z.string().max(64), signature: z.string().max(200) }))
    .min(1)
    .max(8),
});

/**
 * Largest envelope a device downloads [WIRE-2.7.1]: the base64 manifest plus eight signatures and the
 * JSON around them fit with room to spare; anything bigger could never decode, so it is never buffered.
 */
export const MAX_ENVELOPE_BYTES = MAX_ENVELOPE_MANIFEST_CHARS + 64 * 1024;
export type Envelope = z.infer<typeof Envelope>;

/** [WIRE-3.3] where a device finds the broker. */
export const ConnectionInfo = z.object({
  v,
  prefix: z.string().min(1).max(128),
  mqtt: z
    .string()
    .regex(/^mqtts?:\/\//)
    .max(2000)
    .nullable(),
  ws: z
    .string()
    .regex(/^wss?:\/\//)
    .max(2000)
    .nullable(),
});
export type ConnectionInfo = z.infer<typeof ConnectionInfo>;

/**
 * [WIRE-2.11] a new device credential, server → device on `credentials` (QoS 1, never retained). The
 * device stores it, reconnects with it, and the server refuses the old one after `oldValidUntil`.
 */
export const CredentialRotation = z.object({
  v,
  token: z.string().regex(/^fdt_[A-Za-z0-9_-]{32}$/),
  generation: z.number().int().positive(),
  oldValidUntil: time,
  issuedAt: time,
});
export type CredentialRotation = z.infer<typeof CredentialRotation>;

/** A parsed message, or why it is invalid: the first problems as `path: message` [WIRE-2.1]. */
export type ParsedMessage<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses JSON bytes against a schema and says what is wrong when they do not fit (never throws). */
export function parseMessage<T>(schema: z.ZodType<T>, payload: Uint8Array | string): ParsedMessage<T> {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return { ok: false, error: 'not UTF-8 JSON' };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  // Paths are cut short: a key is the sender's text, and an error must stay small enough to log.
  const where = (path: PropertyKey[]) => path.map((p) => String(p).slice(0, 40)).join('.') || '(message)';
  return {
    ok: false,
    error: r.error.issues
      .slice(0, 3)
      .map((i) => `${where(i.path)}: ${i.message}`)
      .join('; '),
  };
}

/** Parses JSON bytes against a schema; returns null (never throws) on anything invalid [WIRE-2.1]. */
export function decodeMessage<T>(schema: z.ZodType<T>, payload: Uint8Array | string): T | null {
  const r = parseMessage(schema, payload);
  return r.ok ? r.value : null;
}

export const encodeMessage = (m: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(m));
