// Picks the calibration method per model: candidates are quantized and compared with the float model in turn; the
// first that meets the parity gate is kept, else the closest. Judged on the calibration samples, so the held-out
// parity report stays held out.
import { evaluateParity } from '../evaluate-parity.ts';
import { parityGate, type GateThresholds } from '../parity-gate.ts';
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
  /** Whether the gate's agreement thresholds hold on the calibration samples. */
  meetsGate: boolean;
}

/** In the order tried: the simplest first, since most models need nothing more. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'entropy', 'percentile'];

/**
 * Tries the methods in order and keeps the first whose int8 model meets `gate` on the calibration samples
 * (the accuracy threshold aside: calibration samples carry no labels); when none does, the best of all:
 * highest top-1 agreement where the model has a classifier output, then lowest relative L2.
 */
export async function chooseCalibration(
  floatBytes: Uint8Array,
  calibration: SampleSet,
  settings: Omit<CalibrationSettings, 'method'>,
  gate: GateThresholds = {},
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
      meetsGate: parityGate(parity, gate).passed,
    };
    candidates.push(c);
    if (!best || better(c, best.c)) best = { model, c };
    if (c.meetsGate) return { model, candidates };
  }
  return { model: best!.model, candidates };
}

function better(a: CalibrationCandidate, b: CalibrationCandidate): boolean {
  const ta = a.top1Agreement ?? 0;
  const tb = b.top1Agreement ?? 0;
  if (ta !== tb) return ta > tb;
  return a.relativeL2 < b.relativeL2;
}
