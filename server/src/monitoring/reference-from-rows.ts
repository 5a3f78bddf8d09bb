// A model version's reference evidence computed from rows of its inputs, the same way for every source of a
// model: input feature bins (image summaries for images, one feature per column for tables) with the agent's
// own feature code, plus what the model itself answers on those rows (prediction shares, a confidence
// histogram, self-test vectors) and, with labelled held-out rows, a calibration map. Native runs, imported
// models and models from outside trainers share it, so drift means the same thing for all of them.
import * as ort from 'onnxruntime-node';
import { compileFeatures, histogram, type FeatureProfile, type SelfTestVector } from '@flotilla/firmware-bundler';

/** Bins per monitored feature. Ten deciles keep the expected count per bin ≥ 20 at the detector's 200-sample minimum. */
export const PROFILE_BINS = 10;
/** Rows used for the profile (more adds little precision and costs CPU). */
export const PROFILE_ROWS = 4000;
/** Self-test vectors per bundle. */
export const SELF_TESTS = 4;
/** Most index features monitored for tabular data. */
export const MAX_TABULAR_FEATURES = 32;
/** The agents' confidence histogram edges (edge-agent's CONFIDENCE_EDGES): a reference on other edges is not comparable. */
export const CONFIDENCE_EDGES: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Input rows: `n` samples of `featureShape`, row-major float32. */
export interface Rows {
  x: Float32Array;
  n: number;
  featureShape: number[];
}

/** The monitored features of `rows` (image summaries for images, one per column for tables) and their values per row. */
export function featureValues(rows: Rows, featureNames: string[] = []): { wanted: FeatureProfile[]; values: Float64Array[] } {
  const dims = rows.featureShape;
  const image = dims.length === 3 && dims[0]! >= 8 && dims[1]! >= 8;
  const wanted: FeatureProfile[] = image
    ? ['mean_brightness', 'contrast', 'edge_density'].map((name) => ({ name, edges: [], frequencies: [] }))
    : Array.from(
        {
          length: Math.min(
            MAX_TABULAR_FEATURES,
            dims.reduce((a, b) => a * b, 1),
          ),
        },
        (_, i) => ({ name: featureNames[i] ?? `f${i}`, index: i, edges: [], frequencies: [] }),
      );
  const extract = compileFeatures(wanted, dims);
  const per = dims.reduce((a, b) => a * b, 1);
  const values = wanted.map(() => new Float64Array(rows.n));
  const scratch = new Float64Array(wanted.length);
  for (let r = 0; r < rows.n; r++) {
    extract(rows.x, r * per, scratch);
    for (let f = 0; f < wanted.length; f++) values[f]![r] = scratch[f]!;
  }
  return { wanted, values };
}

/** Share of `v` in each bin of `edges`. */
export const frequenciesOn = (edges: number[], v: Float64Array): number[] => histogram({ edges }, v).map((c) => c / v.length);

/** Reference profile on `rows`: image summaries for images, one feature per column for tables. */
export function referenceProfile(rows: Rows, featureNames: string[] = []): FeatureProfile[] {
  const { wanted, values } = featureValues(rows, featureNames);
  return wanted.map((w, f) => {
    const edges = quantileEdges(values[f]!, PROFILE_BINS);
    return { ...w, edges, frequencies: frequenciesOn(edges, values[f]!), count: rows.n };
  });
}

/** Strictly increasing edges at the quantiles of `v` (ties collapse bins; a constant feature gets one bin). */
export function quantileEdges(v: Float64Array, bins: number): number[] {
  const s = Float64Array.from(v).sort();
  const lo = s[0]!;
  const hi = s[s.length - 1]!;
  if (!(hi > lo)) return [lo, lo + 1];
  const edges = [lo];
  for (let b = 1; b < bins; b++) {
    const q = s[Math.floor((b * s.length) / bins)]!;
    if (q > edges[edges.length - 1]!) edges.push(q);
  }
  // The last edge sits just above the maximum so the largest training value lands in the last bin.
  edges.push(hi + (hi - lo) * 1e-6);
  return edges;
}

/** Every k-th row, at most `max`: datasets are often ordered by class, and the first rows would describe a few classes. */
export function spreadRows(rows: Rows, max = PROFILE_ROWS): Rows {
  if (rows.n <= max) return rows;
  const step = Math.ceil(rows.n / max);
  const per = rows.featureShape.reduce((a, b) => a * b, 1);
  const n = Math.ceil(rows.n / step);
  const x = new Float32Array(n * per);
  for (let i = 0; i < n; i++) x.set(rows.x.subarray(i * step * per, (i * step + 1) * per), i * per);
  return { x, n, featureShape: rows.featureShape };
}

/** Tensor names the model is fed and read through. */
export interface IoNames {
  input: string;
  output: string;
}

/** The model's first output on every row, row-major ([n, width]). */
export async function runModel(onnx: Uint8Array, rows: Rows, names: IoNames, batch = 256): Promise<{ y: Float32Array; width: number }> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  try {
    const per = rows.featureShape.reduce((a, b) => a * b, 1);
    const parts: Float32Array[] = [];
    let width = 0;
    for (let start = 0; start < rows.n; start += batch) {
      const count = Math.min(batch, rows.n - start);
      const res = await session.run({
        [names.input]: new ort.Tensor('float32', rows.x.slice(start * per, (start + count) * per), [count, ...rows.featureShape]),
      });
      const y = Float32Array.from(res[names.output]!.data as Float32Array);
      width = y.length / count;
      parts.push(y);
    }
    const y = new Float32Array(rows.n * width);
    let at = 0;
    for (const p of parts) {
      y.set(p, at);
      at += p.length;
    }
    return { y, width };
  } finally {
    await session.release();
  }
}

/** Self-test vectors: the first rows with what `onnx` answers on them (what a device must reproduce after install). */
export async function selfTestVectors(onnx: Uint8Array, rows: Rows, names: IoNames): Promise<SelfTestVector[]> {
  const per = rows.featureShape.reduce((a, b) => a * b, 1);
  const take: Rows = {
    x: rows.x.subarray(0, Math.min(SELF_TESTS, rows.n) * per),
    n: Math.min(SELF_TESTS, rows.n),
    featureShape: rows.featureShape,
  };
  const { y, width } = await runModel(onnx, take, names, 1);
  return Array.from({ length: take.n }, (_, i) => ({
    name: `test-row-${i}`,
    inputs: { [names.input]: Array.from(take.x.subarray(i * per, (i + 1) * per)) },
    expected: { [names.output]: Array.from(y.subarray(i * width, (i + 1) * width)) },
    // int8 kernels differ slightly between CPUs and between onnxruntime-node and -web; 0.02 is far below a class flip.
    tolerance: { abs: 0.02, rel: 0.02 },
  }));
}

/** Top class and its score per row of [n, width] outputs. */
function topClasses(y: Float32Array, width: number): { cls: Int32Array; conf: Float64Array } {
  const n = y.length / width;
  const cls = new Int32Array(n);
  const conf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (y[i * width + c]! > y[i * width + best]!) best = c;
    cls[i] = best;
    conf[i] = y[i * width + best]!;
  }
  return { cls, conf };
}

/** What the model answers on reference rows, as the detector compares live windows with it. */
export interface OutputReference {
  /** Share of each predicted class, in output order (sums to 1). */
  predictions: number[];
  /** Top-class confidence histogram on the agents' edges. */
  confidence: { edges: number[]; frequencies: number[] };
}

/** Prediction shares and the confidence histogram of a classifier's outputs; null when the output is no classifier. */
export function outputReference(y: Float32Array, width: number): OutputReference | null {
  const n = width > 0 ? y.length / width : 0;
  if (width < 2 || n === 0) return null;
  const { cls, conf } = topClasses(y, width);
  // Confidences are only meaningful as probabilities; logits would land outside [0, 1] and say nothing.
  if (conf.some((c) => !(c >= 0 && c <= 1 + 1e-6))) return null;
  const predictions = new Array<number>(width).fill(0);
  for (const c of cls) predictions[c]! += 1 / n;
  const counts = histogram({ edges: [...CONFIDENCE_EDGES] }, conf);
  return { predictions, confidence: { edges: [...CONFIDENCE_EDGES], frequencies: counts.map((c) => c / n) } };
}

/**
 * Calibration map on the agents' confidence bins: the accuracy observed per bin on labelled held-out rows
 * (null for an empty bin), what `estimatedAccuracy` corrects an over- or under-confident model with.
 */
export function calibrationMap(
  y: Float32Array,
  width: number,
  labels: Int32Array,
): { edges: number[]; accuracy: (number | null)[]; counts: number[] } {
  const { cls, conf } = topClasses(y, width);
  const bins = CONFIDENCE_EDGES.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  for (let i = 0; i < cls.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(conf[i]! * bins)));
    counts[b]!++;
    if (cls[i] === labels[i]) right[b]!++;
  }
  return { edges: [...CONFIDENCE_EDGES], accuracy: counts.map((c, b) => (c ? right[b]! / c : null)), counts };
}

/** Everything a version's bundles and monitoring need, computed from reference rows by running the model. */
export interface RowsReference extends Partial<OutputReference> {
  features: FeatureProfile[];
  /** Rows the profile was computed from. */
  rows: number;
  /** Output width of the model's first output. */
  outputWidth: number;
  calibration?: ReturnType<typeof calibrationMap>;
  /** Accuracy on the labelled held-out rows, when given. */
  evalAccuracy?: number;
}

/** Computes the reference evidence of `onnx` on `rows` (and, with labelled `evaluation` rows, its calibration). */
export async function referenceFromRows(
  onnx: Uint8Array,
  rows: Rows,
  names: IoNames,
  o: { featureNames?: string[]; evaluation?: Rows & { y: Int32Array } } = {},
): Promise<RowsReference> {
  const spread = spreadRows(rows);
  const features = referenceProfile(spread, o.featureNames);
  const out = await runModel(onnx, spread, names);
  const ref: RowsReference = { features, rows: spread.n, outputWidth: out.width, ...(outputReference(out.y, out.width) ?? {}) };
  if (o.evaluation && o.evaluation.n > 0) {
    const ev = await runModel(onnx, o.evaluation, names);
    ref.calibration = calibrationMap(ev.y, ev.width, o.evaluation.y);
    const { cls } = topClasses(ev.y, ev.width);
    ref.evalAccuracy = cls.reduce((a, c, i) => a + (c === o.evaluation!.y[i] ? 1 : 0), 0) / cls.length;
  }
  return ref;
}
