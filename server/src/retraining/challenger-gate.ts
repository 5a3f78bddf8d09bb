// The challenger gate (as TFX/TFMA bless a model): a retrained challenger replaces nothing unless it beats the
// champion on recent field data, does not regress on the original test split, and its int8 bundle passed parity.
import type { Dataset } from '../datasets/dataset-types.ts';
import { onnxAccuracy } from './onnx-accuracy.ts';

export interface GateThresholds {
  /** Points (percentage points) by which the challenger must beat the champion on the field holdout (default 2). */
  margin?: number;
  /** Points the challenger may fall below the champion on the original test split (default 1). */
  tolerance?: number;
}

export interface GateInput {
  /** Accuracies 0..1; field null when there is no holdout (then the gate refuses: nothing shows improvement). */
  champion: { field: number | null; test: number | null };
  challenger: { field: number | null; test: number | null };
  /** Whether the challenger's int8 export passed the parity gate. */
  parityPassed: boolean;
}

export interface GateVerdict {
  blessed: boolean;
  /** Human-readable reasons for refusal; empty when blessed. */
  failures: string[];
  margin: number;
  tolerance: number;
  /** Challenger minus champion, in points. */
  fieldDelta: number | null;
  testDelta: number | null;
  input: GateInput;
}

const points = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.round((a - b) * 10_000) / 100);

/** The pure decision, all three checks applied. */
export function judgeChallenger(input: GateInput, t: GateThresholds = {}): GateVerdict {
  const margin = t.margin ?? 2;
  const tolerance = t.tolerance ?? 1;
  const fieldDelta = points(input.challenger.field, input.champion.field);
  const testDelta = points(input.challenger.test, input.champion.test);
  const failures: string[] = [];
  if (fieldDelta === null) failures.push('no field holdout to compare on');
  else if (fieldDelta < margin)
    failures.push(`field accuracy ${fieldDelta >= 0 ? '+' : ''}${fieldDelta} points vs champion; needs at least +${margin}`);
  if (testDelta === null) failures.push('no test split to compare on');
  else if (testDelta < -tolerance) failures.push(`test accuracy ${testDelta} points vs champion; may fall at most ${tolerance}`);
  if (!input.parityPassed) failures.push('int8 bundle failed the parity gate');
  return { blessed: failures.length === 0, failures, margin, tolerance, fieldDelta, testDelta, input };
}

/** Evaluates both int8 models on the field holdout and the parent test split, then judges. */
export async function evaluateChallenger(o: {
  championInt8: Uint8Array;
  challengerInt8: Uint8Array;
  holdout: Dataset;
  test: Dataset;
  parityPassed: boolean;
  thresholds?: GateThresholds;
}): Promise<GateVerdict> {
  const [cf, ct, xf, xt] = [
    await onnxAccuracy(o.championInt8, o.holdout),
    await onnxAccuracy(o.championInt8, o.test),
    await onnxAccuracy(o.challengerInt8, o.holdout),
    await onnxAccuracy(o.challengerInt8, o.test),
  ];
  return judgeChallenger(
    { champion: { field: cf, test: ct }, challenger: { field: xf, test: xt }, parityPassed: o.parityPassed },
    o.thresholds,
  );
}
