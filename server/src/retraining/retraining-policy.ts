// Per-model retraining policies: what triggers a retrain, which data, what to train, what follows a blessing.
// Kept as one JSON file under the data dir: a handful of policies, edited rarely, read on every trigger.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Longest an outside trainer may run, seconds (a day). */
export const MAX_TRAINER_SEC = 86_400;

/**
 * A trainer outside Flotilla: a command the server runs (no shell; argv as given, killed with its process
 * group at the time limit) or an HTTP endpoint it POSTs the job to. Either returns an ONNX file.
 */
export const OutsideTrainer = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('command'),
    /** argv: the program and its arguments, e.g. ["python3", "docs/examples/pytorch-trainer.py"]. */
    command: z.array(z.string().min(1).max(4096)).min(1).max(64),
    /** Working directory (default: the server's). */
    cwd: z.string().min(1).max(4096).optional(),
    timeoutSec: z.number().int().positive().max(MAX_TRAINER_SEC).default(3600),
    /** int8 (default): quantize the challenger (parity gate included) and gate int8 against int8; none: gate the float models. */
    quantize: z.enum(['int8', 'none']).default('int8'),
  }).strict(),
  z.object({
    kind: z.literal('http'),
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
    timeoutSec: z.number().int().positive().max(MAX_TRAINER_SEC).default(3600),
    quantize: z.enum(['int8', 'none']).default('int8'),
  }).strict(),
]);
export type OutsideTrainer = z.infer<typeof OutsideTrainer>;

export const RetrainingPolicy = z.object({
  trigger: z.object({
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
  }).strict(),
  data: z.object({
    /** Parent dataset (name or digest) the field samples are added to, e.g. `mnist`. */
    parent: z.string().min(1),
    /** Only these cohorts' samples (all cohorts when absent). */
    cohorts: z.array(z.string().min(1)).max(64).optional(),
    /** Share of the newest samples kept out for the gate (default 0.2). */
    holdoutFraction: z.number().min(0.05).max(0.9).default(0.2),
    /** Use a label's samples only when this many distinct devices sent them (default 1); 2 or more keeps one device from poisoning a retrain. */
    minDevicesPerLabel: z.number().int().min(1).max(10_000).default(1),
  }).strict(),
  train: z.object({
    /** Hyperparameters layered over the champion's. */
    hyper: z.record(z.string(), z.unknown()).optional(),
    spec: z.literal('champion').default('champion'),
  }).strict().default({ spec: 'champion' }),
  /**
   * Train with this outside trainer instead of the built-in TensorFlow.js one (required for imported
   * champions). Its ONNX file then goes through the same import, quantization, parity and challenger gates.
   */
  trainer: OutsideTrainer.optional(),
  gate: z.object({ margin: z.number().min(0).optional(), tolerance: z.number().min(0).optional() }).strict().default({}),
  /** After a blessing: start a canary rollout, or wait for an operator. */
  after: z.enum(['canary', 'wait']).default('wait'),
}).strict();
export type RetrainingPolicy = z.infer<typeof RetrainingPolicy>;
export type RetrainingPolicyInput = z.input<typeof RetrainingPolicy>;

export interface PolicyStore {
  get(model: string): RetrainingPolicy | null;
  put(model: string, p: RetrainingPolicy): void;
  list(): Record<string, RetrainingPolicy>;
}

/** Policies in `<dataDir>/retraining-policies.json`, rewritten atomically on every change. */
export class JsonPolicyStore implements PolicyStore {
  private readonly path: string;
  // A Map: model names are operator input, and `__proto__` or `constructor` must be just names.
  private policies = new Map<string, RetrainingPolicy>();
  private loadedMtime = -1;

  /** `dir` is the data folder, or the folder every server process shares (--shared-dir). */
  constructor(dir: string) {
    this.path = join(dir, 'retraining-policies.json');
    this.reload();
  }

  get(model: string): RetrainingPolicy | null {
    this.reload();
    return this.policies.get(model) ?? null;
  }

  put(model: string, p: RetrainingPolicy): void {
    this.reload();
    const next = new Map(this.policies).set(model, p);
    // Unique temp name: another server process may write the shared file at the same moment.
    const tmp = `${this.path}.${process.pid}.tmp`;
    // Serialized before anything changes: a policy that cannot be written is refused, not kept in memory
    // where it would break every later write.
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(next), null, 2));
    renameSync(tmp, this.path);
    this.policies = next;
    this.loadedMtime = statSync(this.path).mtimeMs;
  }

  list(): Record<string, RetrainingPolicy> {
    this.reload();
    return Object.fromEntries(this.policies);
  }

  /** Re-reads the file when another process changed it (policies change rarely; a stat is cheap). */
  private reload(): void {
    if (!existsSync(this.path)) return;
    const mtime = statSync(this.path).mtimeMs;
    if (mtime === this.loadedMtime) return;
    // JSON.parse keeps a `__proto__` key as an own property; Object.entries hands it over as a name.
    this.policies = new Map(Object.entries(JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, RetrainingPolicy>));
    this.loadedMtime = mtime;
  }
}
