// Entropy (KL-divergence) calibration: the clipping threshold whose 8-bit histogram loses the least information,
// the method TensorRT introduced and onnxruntime's CalibrationMethod.Entropy uses.
import type { Range } from './quant-math.ts';

/** Histogram bins over [0, max |x|]; 2048 as in TensorRT and onnxruntime. */
const BINS = 2048;
/** Quantized levels one side of an activation gets: uint8 over a range that includes 0. */
const LEVELS = 255;

/** Smoothed KL(P || Q), zero bins of Q given a little mass so the divergence stays finite (as onnxruntime does). */
function klDivergence(p: Float64Array, q: Float64Array): number {
  const eps = 1e-4;
  let pSum = 0;
  let qSum = 0;
  let qZeros = 0;
  for (let i = 0; i < p.length; i++) {
    pSum += p[i]!;
    qSum += q[i]!;
    if (q[i] === 0) qZeros++;
  }
  if (pSum === 0 || qSum === 0) return Infinity;
  const nonZero = q.length - qZeros;
  const take = nonZero > 0 ? (eps * qZeros) / nonZero : 0;
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / pSum;
    if (pi === 0) continue;
    const qi = q[i] === 0 ? eps : q[i]! / qSum - take;
    kl += pi * Math.log(pi / Math.max(qi, 1e-12));
  }
  return kl;
}

/**
 * The threshold t (0 < t ≤ max |x|) minimising KL between the histogram of |x| clipped at t and that
 * histogram squeezed into {@link LEVELS} levels. Values are those the collector kept (a sample of every
 * calibrated activation); the returned range is [max(min, −t), min(max, t)], which keeps 0 exact.
 */
export function entropyRange(values: Float32Array, observed: Range): Range {
  let absMax = 0;
  for (const v of values) absMax = Math.max(absMax, Math.abs(v));
  if (!(absMax > 0) || !Number.isFinite(absMax)) return observed;
  const width = absMax / BINS;
  const hist = new Float64Array(BINS);
  for (const v of values) hist[Math.min(BINS - 1, Math.floor(Math.abs(v) / width))]!++;
  let best = BINS;
  let bestKl = Infinity;
  for (let i = LEVELS; i <= BINS; i++) {
    const p = hist.slice(0, i);
    let outliers = 0;
    for (let j = i; j < BINS; j++) outliers += hist[j]!;
    p[i - 1]! += outliers;
    // Q: the first i bins merged into LEVELS groups, each group's mass spread back over its non-empty bins.
    const q = new Float64Array(i);
    const per = i / LEVELS;
    for (let k = 0; k < LEVELS; k++) {
      const start = Math.floor(k * per);
      const end = k === LEVELS - 1 ? i : Math.floor((k + 1) * per);
      let mass = 0;
      let used = 0;
      for (let j = start; j < end; j++) {
        mass += hist[j]!;
        if (hist[j]! > 0) used++;
      }
      if (used === 0) continue;
      for (let j = start; j < end; j++) if (hist[j]! > 0) q[j] = mass / used;
    }
    const kl = klDivergence(p, q);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  const t = (best + 0.5) * width;
  return { min: Math.max(observed.min, -t), max: Math.min(observed.max, t) };
}
