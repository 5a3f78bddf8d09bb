// Per-model retraining policies: what triggers a retrain, which data, what to train, what follows a blessing.
// Kept in the RetrainingStore (retraining-store.ts); bounded in depth and size before anything stores them.
import { z } from 'zod';
import { FEEDBACK_SOURCES } from './field-sample-store.ts';

/** Longest an outside trainer may run, seconds (a day). */
export const MAX_TRAINER_SEC = 86_400;

/**
 * A trainer outside Flotilla: a command the server runs (no shell; argv as given, killed with its process
 * group at the time limit) or an HTTP endpoint it POSTs the job to. Either returns an ONNX file.
 */
export const OutsideTrainer = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('command'),
      /** argv: the program and its arguments, e.g. ["python3", "docs/examples/pytorch-trainer.py"]. */
      command: z.array(z.string().min(1).max(4096)).min(1).max(64),
      /** Working directory (default: the server's). */
      cwd: z.string().min(1).max(4096).optional(),
      timeoutSec: z.number().int().positive().max(MAX_TRAINER_SEC).default(3600),
      /** int8 (default): quantize the challenger (parity gate included) and gate int8 against int8; none: gate the float models. */
      quantize: z.enum(['int8', 'none']).default('int8'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('http'),
      url: z
        .string()
        .url()
        .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
      timeoutSec: z.number().int().positive().max(MAX_TRAINER_SEC).default(3600),
      quantize: z.enum(['int8', 'none']).default('int8'),
    })
    .strict(),
]);
export type OutsideTrainer = z.infer<typeof OutsideTrainer>;

export const RetrainingPolicy = z
  .object({
    trigger: z
      .object({
        /** Retrain when monitoring raises a drift alert on this model. */
        onDriftAlert: z.boolean().default(false),
        /**
         * With onDriftAlert: first wait for this many labelled field samples (from the policy's cohorts, else the
         * alert's) predicted since the drift began, since a retrain cannot learn a shift it has no labels of. 0: at once.
         */
        samplesAfterAlert: z.number().int().nonnegative().max(1_000_000).default(0),
        /** Retrain once this many new labelled field samples arrived since the last retrain (0: off). */
        minLabelledSamples: z.number().int().nonnegative().default(0),
        /** Retrain at least this often, seconds (absent: no schedule). */
        scheduleSec: z.number().int().positive().optional(),
      })
      .strict(),
    data: z
      .object({
        /** Parent dataset (name or digest) the field samples are added to, e.g. `mnist`. */
        parent: z.string().min(1),
        /** Only these cohorts' samples (all cohorts when absent). */
        cohorts: z.array(z.string().min(1)).max(64).optional(),
        /** Share of the newest samples kept out for the gate (default 0.2). */
        holdoutFraction: z.number().min(0.05).max(0.9).default(0.2),
        /** Use a label's samples only when this many distinct devices sent them (default 1); 2 or more keeps one device from poisoning a retrain. */
        minDevicesPerLabel: z.number().int().min(1).max(10_000).default(1),
        /**
         * Only labels from these feedback sources count (all when absent): `app` (the embedding app's
         * agent.feedback), `local-api` (the agent's local POST /v1/feedback), `operator` (labels set on the server),
         * `unknown` (agents older than the source field).
         */
        sources: z.array(z.enum(FEEDBACK_SOURCES)).min(1).max(FEEDBACK_SOURCES.length).optional(),
      })
      .strict(),
    train: z
      .object({
        /** Hyperparameters layered over the champion's. */
        hyper: z.record(z.string(), z.unknown()).optional(),
        spec: z.literal('champion').default('champion'),
      })
      .strict()
      .default({ spec: 'champion' }),
    /**
     * Train with this outside trainer instead of the built-in TensorFlow.js one (required for imported
     * champions). Its ONNX file then goes through the same import, quantization, parity and challenger gates.
     */
    trainer: OutsideTrainer.optional(),
    gate: z
      .object({ margin: z.number().min(0).optional(), tolerance: z.number().min(0).optional() })
      .strict()
      .default({}),
    /** After a blessing: start a canary rollout, or wait for an operator. */
    after: z.enum(['canary', 'wait']).default('wait'),
  })
  .strict();
export type RetrainingPolicy = z.infer<typeof RetrainingPolicy>;
export type RetrainingPolicyInput = z.input<typeof RetrainingPolicy>;

/** Deepest nesting a stored policy may have (objects and arrays); the HTTP body limit is 32 too. */
export const MAX_POLICY_DEPTH = 32;
/** Largest a stored policy may be, as JSON. */
export const MAX_POLICY_BYTES = 64 * 1024;

/**
 * Why `value` may not be stored as a policy (too deep or too large), or null. Walks without recursion and
 * before serialising, so a policy nested 200,000 deep is refused with a reason, not a stack overflow.
 */
export function policyBoundsProblem(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_POLICY_DEPTH) return `nested deeper than ${MAX_POLICY_DEPTH} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  return bytes > MAX_POLICY_BYTES ? `${bytes} bytes of JSON, over the ${MAX_POLICY_BYTES}-byte limit` : null;
}
