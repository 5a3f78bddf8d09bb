// Training hyperparameters: schema, defaults and validation with readable messages.
import { z } from 'zod';
import { formatIssues, intIn, must, numberIn } from './spec-issues.ts';

/** Optimizers the trainer knows. */
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;

/**
 * Hyperparameters and their defaults (tuned on MNIST, see DEFAULT_DENSE_SPEC):
 * epochs 15, batchSize 64, learningRate 1e-3, optimizer adam, seed 42, validationSplit 0.1.
 */
export const HyperparamsSchema = z.strictObject({
  /** Passes over the training data, 1..1000. Default 15. */
  epochs: intIn(1, 1000).default(15),
  /** Samples per gradient step, 1..65536. Default 64. */
  batchSize: intIn(1, 65536).default(64),
  /** Optimizer step size, (0, 10]. Default 1e-3. */
  learningRate: numberIn(0, 10, true).default(1e-3),
  /** Default adam. */
  optimizer: z.enum(OPTIMIZERS, must(`must be one of ${OPTIMIZERS.join(', ')}`)).default('adam'),
  /** Seeds weight initialisation, dropout masks and data order; unsigned 32-bit. Default 42. */
  seed: intIn(0, 4294967295).default(42),
  /** Fraction of the training data held out for validation when the caller has no validation set, [0, 0.5]. Default 0.1. */
  validationSplit: numberIn(0, 0.5).default(0.1),
  /**
   * Standardise rank-1 (tabular) features with the training split's mean and standard deviation, in a
   * fixed first layer of the model, so every consumer of the model (export, quantization, agents) feeds it
   * raw features. Default true; images (rank 3) are never standardised. Layer-list specs only.
   */
  standardize: z.boolean(must('must be true or false')).default(true),
});

export type Hyperparams = z.output<typeof HyperparamsSchema>;
export type HyperparamsInput = z.input<typeof HyperparamsSchema>;

/** The defaults, as a complete object. */
export const DEFAULT_HYPERPARAMS: Hyperparams = HyperparamsSchema.parse({});

/** Fills defaults and checks ranges; messages name the field, e.g. "batchSize must be an integer from 1 to 65536". */
export function validateHyperparams(input: unknown): { ok: true; hyper: Hyperparams } | { ok: false; errors: string[] } {
  const parsed = HyperparamsSchema.safeParse(input ?? {});
  return parsed.success ? { ok: true, hyper: parsed.data } : { ok: false, errors: formatIssues(parsed.error.issues, 'hyperparameters') };
}
