// Picks the calibration method per model: each candidate is quantized and compared with the float model, the one
// whose int8 output stays closest wins. Judged on the calibration samples, so the held-out parity report stays held out.
import { evaluateParity } from '../evaluate-parity.ts';
import type { SampleSet } from '../samples.ts';
import type { CalibrationMethod, CalibrationSettings } from './calibrate.ts';
import { quantizeStatic, type QuantizedModel } from './quantize-static.ts';

/** How one calibration method fared, for the report. */
export interface CalibrationCandidate {
  method: CalibrationMethod;
  /** Top-1 agreement of the first classifier output with float on the calibration samples; null without one. */
  top1Agreement: number | null;
  /** Mean over outputs of the relative L2 error against float on the calibration samples. */
  relativeL2: number;
}

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/**
 * Quantizes with every method and keeps the best: highest top-1 agreement where the model has a classifier
 * output, then lowest relative L2 (min-max wins ties, being the simplest to explain).
 */
export async function chooseCalibration(
  floatBytes: Uint8Array,
  calibration: SampleSet,
  settings: Omit<CalibrationSettings, 'method'>,
  weightQmax?: number,
): Promise<{ model: QuantizedModel; candidates: CalibrationCandidate[] }> {
  let best: { model: QuantizedModel; c: CalibrationCandidate } | null = null;
  const candidates: CalibrationCandidate[] = [];
  for (const method of CALIBRATION_METHODS) {
    const model = await quantizeStatic(floatBytes, calibration, { calibration: { ...settings, method }, weightQmax });
    const parity = await evaluateParity({ floatBytes, int8Bytes: model.bytes, inputs: calibration, latency: false });
    const classifier = parity.outputs.find((o) => o.kind === 'classifier');
    const c: CalibrationCandidate = {
      method,
      top1Agreement: classifier?.top1Agreement ?? null,
      relativeL2: parity.outputs.reduce((sum, o) => sum + o.relativeL2, 0) / Math.max(1, parity.outputs.length),
    };
    candidates.push(c);
    if (!best || better(c, best.c)) best = { model, c };
  }
  return { model: best!.model, candidates };
}

function better(a: CalibrationCandidate, b: CalibrationCandidate): boolean {
  const ta = a.top1Agreement ?? 0;
  const tb = b.top1Agreement ?? 0;
  if (ta !== tb) return ta > tb;
  return a.relativeL2 < b.relativeL2;
}
