// Whether a shadow's output agrees with the serving model's answer [WIRE-2.2.1].
import { argmax } from '../model/predictions.ts';
import type { ShadowOutcome } from './shadow-tally.ts';

/** Single-output (regression) models agree when |shadow − serving| ≤ ABS + REL·|serving|. */
export const REGRESSION_TOLERANCE = { abs: 1e-3, rel: 1e-2 } as const;

/** What the serving model answered, kept as plain numbers (the app owns the output arrays). */
export interface ServingAnswer {
  top1: number;
  /** Number of values of the primary output: 1 for a regression model. */
  width: number;
  /** The primary output's first value (what a regression model answers). */
  value: number;
}

/**
 * Classifiers agree on the same top-1 class; a shadow with another number of outputs disagrees. A
 * regression output agrees within {@link REGRESSION_TOLERANCE}. No output, or a NaN, is an error.
 */
export function compareShadow(serving: ServingAnswer, shadow: Float32Array | undefined): ShadowOutcome {
  if (!shadow || shadow.length === 0) return 'error';
  for (let i = 0; i < shadow.length; i++) if (!Number.isFinite(shadow[i]!)) return 'error';
  if (serving.width === 1 && shadow.length === 1) {
    return Math.abs(shadow[0]! - serving.value) <= REGRESSION_TOLERANCE.abs + REGRESSION_TOLERANCE.rel * Math.abs(serving.value)
      ? 'agree'
      : 'disagree';
  }
  if (shadow.length !== serving.width) return 'disagree';
  return argmax(shadow) === serving.top1 ? 'agree' : 'disagree';
}
