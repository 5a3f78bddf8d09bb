// Picks the calibration method and weight storage per model: candidates are quantized and compared with the float model
// in turn, fastest scheme first (7-bit int8 weights, then full 8-bit uint8 weights); the first that meets the parity gate
// is kept. When none does, mixed precision: the noisiest activations are left float, as few as the gate allows (found by
// bisection). Judged on the calibration samples, so the held-out parity report
// stays held out.
import { evaluateParity } from '../evaluate-parity.ts';
import { parityGate, type GateThresholds } from '../parity-gate.ts';
import type { CalibratedRanges, CalibrationMethod, CalibrationSettings } from './calibrate.ts';
import type { WeightType } from './quant-math.ts';
import { signatureOf, singleModelInput } from '../onnx-signature.ts';
import { toSamples, type SampleSet } from '../samples.ts';
import { prepareForQuantization } from './prepare-graph.ts';
import { quantizeStatic, type QuantizedModel } from './quantize-static.ts';
import { weightSensitivity } from './weight-sensitivity.ts';

/** How one calibration method fared, for the report. */
export interface CalibrationCandidate {
  method: CalibrationMethod;
  /** Weight storage of the candidate (see quant-math.ts `WeightType`). */
  weightType: WeightType;
  /** Top-1 agreement of the first classifier output with float on the calibration samples; null without one. */
  top1Agreement: number | null;
  /** Mean over outputs of the relative L2 error against float on the calibration samples. */
  relativeL2: number;
  /**
   * Top-1 agreement expected on unseen rows from each calibration row's decision margin and the candidate's error on
   * it (expected-agreement.ts); absent without a classifier output.
   */
  expectedTop1?: number;
  /** Whether the gate's agreement thresholds hold on the calibration samples, the expected agreement included. */
  meetsGate: boolean;
  /** Mixed-precision candidates: how many calibrated activations were left float (the noisiest first). */
  floatActivations?: number;
  /** Weight-level mixed precision: how many weighted ops were left float whole (the most sensitive first). */
  floatNodes?: number;
}

/** In the order tried: the simplest first, since most models need nothing more. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'entropy', 'percentile'];

/**
 * In the order tried: 7-bit int8 weights run on onnxruntime's fastest (u8s8) kernels; full 8-bit uint8 weights halve
 * the weight rounding noise (measured weights-only relative L2: MobileNetV2 8.1% → 3.9%, RegNetY 4.7% → 2.4%,
 * ShuffleNetV2 14% → 7.6%) on u8u8 kernels, slower on some x86 CPUs. Both are exact on every CPU.
 */
export const WEIGHT_TYPES: readonly WeightType[] = ['int8', 'uint8'];

/**
 * Tries the weight types and, for each, the methods in order (calibrations are measured once per method and reused),
 * then mixed precision, and keeps the first int8 model that meets `gate` on the calibration samples
 * (the accuracy threshold aside: calibration samples carry no labels); when none does, the best of all:
 * highest top-1 agreement where the model has a classifier output, then lowest relative L2 (mixed precision starts
 * from the closest of each weight type too). `weightQmax` (benchmarks only) pins the weights to int8.
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
  const judge: Judge = async (model, method, floatActivations, floatNodes) => {
    const weightType = model.weightType ?? 'int8';
    const parity = await evaluateParity({ floatBytes, int8Bytes: model.bytes, inputs: calibration, latency: false });
    const classifier = parity.outputs.find((o) => o.kind === 'classifier');
    const expectedTop1 = classifier?.expectedTop1;
    const c: CalibrationCandidate = {
      method,
      weightType,
      top1Agreement: classifier?.top1Agreement ?? null,
      relativeL2: parity.outputs.reduce((sum, o) => sum + o.relativeL2, 0) / Math.max(1, parity.outputs.length),
      // A few dozen calibration rows all agreeing says little about the next rows: classifier logits must also stay
      // within the gate's relative L2 limit, and the agreement expected from each row's margin against the
      // candidate's error on it (expected-agreement.ts) must reach the gate's, so that the held-out report agrees too.
      meetsGate:
        parityGate(parity, gate).passed &&
        parity.outputs.every((o) => o.relativeL2 <= (gate.maxRelativeL2 ?? 0.05)) &&
        (expectedTop1 ?? 1) >= (gate.minTop1Agreement ?? 0.99),
      ...(expectedTop1 !== undefined ? { expectedTop1 } : {}),
      ...(floatActivations !== undefined ? { floatActivations } : {}),
      ...(floatNodes ? { floatNodes } : {}),
    };
    candidates.push(c);
    return c;
  };
  // Per weight type: the methods, then mixed precision from the closest of them. uint8 weights come in only when int8
  // weights alone (mixed precision's far end) miss the gate: the model is then limited by its weights, and more float
  // activations cannot help; where activations limit it (EfficientNet), the search costs what it did with int8 only.
  const calibrated = new Map<CalibrationMethod, CalibratedRanges>();
  for (const weightType of weightQmax === undefined ? WEIGHT_TYPES : (['int8'] as const)) {
    let closest: { model: QuantizedModel; c: CalibrationCandidate } | null = null;
    for (const method of CALIBRATION_METHODS) {
      const model = await quantizeStatic(floatBytes, calibration, {
        calibration: { ...settings, method },
        weightQmax,
        weightType,
        calibrated: calibrated.get(method),
      });
      if (model.calibrated) calibrated.set(method, model.calibrated);
      const c = await judge(model, method);
      if (!closest || better(c, closest.c)) closest = { model, c };
      if (!best || better(c, best.c)) best = { model, c };
      if (c.meetsGate) return { model, candidates };
    }
    const mixed = await mixedPrecision(floatBytes, calibration, settings, closest!.model, judge, weightQmax);
    if (mixed) return { model: mixed, candidates };
    if (weightType === 'uint8') {
      const fallback = await weightFallback(floatBytes, calibration, settings, closest!.model, judge);
      if (fallback) return { model: fallback, candidates };
    }
  }
  return { model: best!.model, candidates };
}

type Judge = (
  model: QuantizedModel,
  method: CalibrationMethod,
  floatActivations?: number,
  floatNodes?: number,
) => Promise<CalibrationCandidate>;

/**
 * Weight-level mixed precision leaves at most this fraction of the weight values float: each costs four bytes
 * instead of one, so 5% adds about 4% of the float file to the int8 one, which must still be worth shipping.
 */
export const MAX_FLOAT_WEIGHT_FRACTION = 0.05;

/**
 * Weight-level mixed precision, for models limited by their weights (even 8-bit weights with every activation float
 * miss the gate): the weighted ops are ranked by the output error their weights alone cause when rounded
 * (weight-sensitivity.ts), and the fewest most sensitive ones are left float whole — weights, bias and input
 * activation, as onnxruntime's `nodes_to_exclude` does — found by bisection with every activation float; then
 * activation mixed precision runs again with those ops float. Ops are taken in rank order while their weights fit in
 * {@link MAX_FLOAT_WEIGHT_FRACTION} of the model's (a large op that does not fit is passed over); null when even all
 * of those miss the gate.
 */
async function weightFallback(
  floatBytes: Uint8Array,
  calibration: SampleSet,
  settings: Omit<CalibrationSettings, 'method'>,
  base: QuantizedModel,
  judge: Judge,
): Promise<QuantizedModel | null> {
  const weightType = base.weightType ?? 'uint8';
  const { model } = prepareForQuantization(floatBytes);
  const input = singleModelInput(signatureOf(model));
  const all = await weightSensitivity(model, toSamples(calibration, input.shape, input.dtype), weightType);
  const budget = all.reduce((sum, s) => sum + s.params, 0) * MAX_FLOAT_WEIGHT_FRACTION;
  let spent = 0;
  const ranked = all.filter((s) => (spent + s.params <= budget ? ((spent += s.params), true) : false));
  const most = ranked.length;
  if (most === 0) return null;
  const floatNodes = (k: number) =>
    new Map(
      ranked
        .slice(0, k)
        .map((s, i) => [
          s.node,
          `weight-level mixed precision: among the ${k} of ${all.length} weighted ops whose ${weightType} weights alone move the output most (rank ${i + 1}, relative L2 ${s.relativeL2.toExponential(1)} with only this op's weights rounded, ${s.params} weights); with ${k - 1} the model missed the parity gate on the calibration samples even with every activation float`,
        ]),
    );
  const method = base.calibration!.method;
  const activations = base.sensitivity ?? [];
  const allActivations = new Map(activations.map((s) => [s.tensor, 'weight-level mixed precision: every activation float']));
  const build = (k: number) =>
    quantizeStatic(floatBytes, calibration, {
      calibration: { ...settings, method },
      weightType,
      floatNodes: floatNodes(k),
      keepFloat: allActivations,
      calibrated: base.calibrated,
    });
  // k = 0 (weights alone) already missed the gate in activation mixed precision.
  let lo = 0;
  let hi = most;
  let hiModel = await build(most);
  if (!(await judge(hiModel, method, activations.length, most)).meetsGate) return null;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const model = await build(mid);
    if ((await judge(model, method, activations.length, mid)).meetsGate) {
      hi = mid;
      hiModel = model;
    } else lo = mid;
  }
  return mixedPrecision(floatBytes, calibration, settings, base, judge, undefined, { nodes: floatNodes(hi), farEnd: hiModel });
}

/**
 * The smallest k such that leaving the k noisiest activations float meets the gate on the calibration samples,
 * by bisection between 0 (failed above) and every activation (int8 weights only); null when even that fails.
 * Bisection assumes more float never hurts, which holds for the error but not exactly for agreement; each
 * kept model is judged itself, so the assumption can only cost size or speed, never a wrong pass.
 */
async function mixedPrecision(
  floatBytes: Uint8Array,
  calibration: SampleSet,
  settings: Omit<CalibrationSettings, 'method'>,
  base: QuantizedModel,
  judge: Judge,
  weightQmax?: number,
  floatOps?: { nodes: ReadonlyMap<string, string>; farEnd: QuantizedModel },
): Promise<QuantizedModel | null> {
  const floatNodes = floatOps?.nodes;
  const method = base.calibration!.method;
  const weightType = base.weightType;
  const order = base.sensitivity ?? [];
  const build = (k: number) => {
    const keepFloat = new Map(
      order
        .slice(0, k)
        .map((s, i) => [
          s.tensor,
          `mixed precision: among the ${k} of ${order.length} activations with the most int8 rounding noise (rank ${i + 1}, noise/signal ${s.noiseRatio.toExponential(1)}); quantized, the model missed the parity gate on the calibration samples`,
        ]),
    );
    return quantizeStatic(floatBytes, calibration, {
      calibration: { ...settings, method },
      weightQmax,
      weightType,
      keepFloat,
      floatNodes,
      calibrated: base.calibrated,
    });
  };
  if (order.length === 0) return null;
  let hi = order.length;
  // The far end (every activation float) is known to meet the gate when weight-level mixed precision found it.
  let hiModel = floatOps?.farEnd ?? (await build(hi));
  if (!floatOps && !(await judge(hiModel, method, hi)).meetsGate) return null;
  let lo = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const model = await build(mid);
    if ((await judge(model, method, mid, floatNodes?.size)).meetsGate) {
      hi = mid;
      hiModel = model;
    } else lo = mid;
  }
  return hiModel;
}

function better(a: CalibrationCandidate, b: CalibrationCandidate): boolean {
  const ta = a.top1Agreement ?? 0;
  const tb = b.top1Agreement ?? 0;
  if (ta !== tb) return ta > tb;
  return a.relativeL2 < b.relativeL2;
}
