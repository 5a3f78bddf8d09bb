// Runs the float model over calibration samples and records each activation's range (min-max or percentile).
import { DataType, decodeModel, encodeModel, makeValueInfo, type ModelProto } from '@flotilla/firmware-bundler/onnx';
import { batchSizeFor, openSession, runInBatches } from '../ort-runner.ts';
import { takeSamples, type Samples } from '../samples.ts';
import { entropyRange } from './entropy-range.ts';
import { percentileOfSorted, type Range } from './quant-math.ts';

/** How activation ranges are measured. */
export interface CalibrationSettings {
  /**
   * `minmax` (default) takes the observed extremes; `percentile` clips outliers at a percentile; `entropy`
   * clips where the 8-bit histogram loses least information (KL divergence).
   */
  method?: CalibrationMethod;
  /** Percentile kept at each end for `percentile`; default 99.999. */
  percentile?: number;
  /** Calibration samples used at most; default 512. */
  maxSamples?: number;
  /** Batch size of calibration runs; default 64. */
  batchSize?: number;
}

/** How one activation's range is chosen from what calibration observed. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

/** Settings as applied, for the report. */
export interface AppliedCalibration {
  method: CalibrationMethod;
  percentile?: number;
  samples: number;
}

export type { Range } from './quant-math.ts';

/** Values kept per tensor for percentiles; beyond it every k-th value is kept. */
const PERCENTILE_CAP = 1 << 20;

class RangeCollector {
  min = Infinity;
  max = -Infinity;
  /** Sum of squares and count of every value seen, for the signal power the noise estimate is relative to. */
  sumSq = 0;
  count = 0;
  private readonly kept: Float32Array[] = [];
  private keptCount = 0;

  constructor(private readonly stride: number) {}

  add(values: Float32Array, keep: boolean): void {
    let lo = this.min;
    let hi = this.max;
    let sq = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sq += v * v;
    }
    this.min = lo;
    this.max = hi;
    this.sumSq += sq;
    this.count += values.length;
    if (!keep || this.keptCount >= PERCENTILE_CAP) return;
    const picked = this.stride <= 1 ? values.slice() : values.filter((_, i) => i % this.stride === 0);
    this.kept.push(picked);
    this.keptCount += picked.length;
  }

  private keptValues(): Float32Array {
    const all = new Float32Array(this.keptCount);
    let o = 0;
    for (const k of this.kept) {
      all.set(k, o);
      o += k.length;
    }
    return all;
  }

  percentiles(p: number): Range {
    const all = this.keptValues().sort();
    return { min: percentileOfSorted(all, 100 - p), max: percentileOfSorted(all, p) };
  }

  entropy(): Range {
    return entropyRange(this.keptValues(), { min: this.min, max: this.max });
  }
}

/**
 * Rounding noise of uint8 over `r` relative to the tensor's mean square: (step² / 12) / E[x²]. A tensor whose
 * range is set by a few outliers (one wide channel among narrow ones) has a coarse step for the values that
 * matter and a high ratio; mixed precision leaves the highest ratios float first.
 */
export function noiseRatio(r: Range, meanSquare: number): number {
  const step = (Math.max(0, r.max) - Math.min(0, r.min)) / 255;
  if (!(meanSquare > 0)) return step > 0 ? Infinity : 0;
  return (step * step) / 12 / meanSquare;
}

/** Calibrated ranges and, per tensor, the noise its quantization adds ({@link noiseRatio}). */
export interface CalibratedRanges {
  ranges: Map<string, Range>;
  noise: Map<string, number>;
  /** Per-channel means of the tensors asked for in `channelMeansOf`, for bias correction (insert-qdq.ts). */
  channelMeans?: Map<string, Float32Array>;
  applied: AppliedCalibration;
}

/** Running per-channel sums of a tensor along one axis (1: NCHW channels; -1: the last axis, a MatMul's K). */
class ChannelMeans {
  private sums: Float64Array | null = null;
  private count = 0;

  constructor(private readonly axis: 1 | -1) {}

  add(values: Float32Array, dims: readonly number[]): void {
    const a = this.axis === -1 ? dims.length - 1 : 1;
    if (a < 0 || a >= dims.length) return;
    const channels = dims[a]!;
    const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
    if (!this.sums) this.sums = new Float64Array(channels);
    if (this.sums.length !== channels) return;
    for (let i = 0; i < values.length; i++) this.sums[Math.floor(i / inner) % channels]! += values[i]!;
    this.count += values.length / channels;
  }

  means(): Float32Array | undefined {
    return this.sums && this.count > 0 ? Float32Array.from(this.sums, (v) => v / this.count) : undefined;
  }
}

/**
 * Ranges of `tensors` over the samples, measured with onnxruntime-node on a copy of the model that
 * exposes them as outputs. Graph inputs are measured from the samples directly.
 */
export async function calibrateRanges(
  model: ModelProto,
  inputName: string,
  inputShape: (number | null)[],
  tensors: string[],
  allSamples: Samples,
  settings: CalibrationSettings = {},
  channelMeansOf: ReadonlyMap<string, 1 | -1> = new Map(),
): Promise<CalibratedRanges> {
  const method = settings.method ?? 'minmax';
  const p = settings.percentile ?? 99.999;
  const samples = takeSamples(allSamples, settings.maxSamples ?? 512);
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph!;
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const fetch = [...new Set([...tensors, ...channelMeansOf.keys()])].filter((t) => t !== inputName);
  for (const t of fetch) if (!outputs.has(t)) (graph.output ??= []).push(makeValueInfo(t, DataType.FLOAT));
  const perSample = samples.sampleShape.reduce((a, b) => a * b, 1);
  const collectors = new Map(tensors.map((t) => [t, new RangeCollector(1)]));
  const means = new Map([...channelMeansOf].map(([t, axis]) => [t, new ChannelMeans(axis)]));
  const session = await openSession(encodeModel(copy), { optimization: 'disabled' });
  const batch = batchSizeFor(inputShape, settings.batchSize ?? 64);
  const keep = method !== 'minmax';
  if (collectors.has(inputName)) collectors.get(inputName)!.add(samples.data.subarray(0, samples.count * perSample), keep);
  means.get(inputName)?.add(samples.data.subarray(0, samples.count * perSample), [samples.count, ...samples.sampleShape]);
  if (fetch.length) {
    await runInBatches(
      session,
      inputName,
      samples,
      batch,
      typeof inputShape[0] === 'number',
      (out) => {
        for (const t of fetch) {
          collectors.get(t)?.add(out[t]!.data as Float32Array, keep);
          means.get(t)?.add(out[t]!.data as Float32Array, out[t]!.dims);
        }
      },
      fetch,
    );
  }
  await session.release();
  const ranges = new Map<string, Range>();
  const noise = new Map<string, number>();
  for (const [t, c] of collectors) {
    const r = method === 'percentile' ? c.percentiles(p) : method === 'entropy' ? c.entropy() : { min: c.min, max: c.max };
    ranges.set(t, r);
    noise.set(t, noiseRatio(r, c.count ? c.sumSq / c.count : 0));
  }
  const channelMeans = new Map([...means].flatMap(([t, m]) => (m.means() ? [[t, m.means()!] as const] : [])));
  return {
    ranges,
    noise,
    channelMeans,
    applied: { method, ...(method === 'percentile' ? { percentile: p } : {}), samples: samples.count },
  };
}
