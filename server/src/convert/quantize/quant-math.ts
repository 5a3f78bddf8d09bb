// Scale and zero-point arithmetic of int8 quantization: activations uint8 asymmetric, weights int8 symmetric per channel.

/** The range of values an activation tensor is quantized over. */
export interface Range {
  min: number;
  max: number;
}

/** Quantization parameters of one activation tensor (per tensor, uint8). */
export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/** Rounds half to even, as QuantizeLinear does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * uint8 parameters covering [min, max]. The range is widened to include 0 so that 0 is exact (padding,
 * ReLU outputs); a range starting at 0 gets zero point 0, the type minimum, which is what lets
 * onnxruntime drop a Relu or Clip in front of the QuantizeLinear.
 */
export function activationParams(min: number, max: number): ActivationParams {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  if (!(hi - lo > 0) || !Number.isFinite(hi - lo)) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Largest magnitude of an int8 weight. On x86 CPUs without VNNI (AVX2 only), onnxruntime's u8s8 kernels
 * multiply uint8 activations by int8 weights with `vpmaddubsw`, which adds each pair of products into an
 * int16 with saturation: 2 × 255 × 127 overflows, 2 × 255 × 63 = 32,130 does not. With weights in
 * [-63, 63] ("reduce range", onnxruntime's own advice for these CPUs) every kernel path — AVX2, AVX-512,
 * VNNI, ARM dot products, the reference kernels — computes the same exact integer sums, so a model that
 * passes the parity gate on this server computes the same thing on every device. The price is one bit of
 * weight resolution (BENCHMARKS.md, "int8 weight range").
 */
export const WEIGHT_QMAX = 63;

/** A quantized weight: int8 values with one scale per output channel (zero points are all 0). */
export interface QuantizedWeight {
  values: Int8Array;
  scales: Float32Array;
}

/**
 * Symmetric int8 per-channel quantization over [-qmax, qmax] along `axis` of a tensor with `dims`
 * (symmetric, so negating a weight never saturates). `qmax` is {@link WEIGHT_QMAX} unless a caller
 * deliberately asks for the full range (benchmarks and tests of the kernel-safety check).
 */
export function quantizeWeightPerChannel(values: Float32Array, dims: number[], axis: number, qmax = WEIGHT_QMAX): QuantizedWeight {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const absMax = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const a = Math.abs(values[i]!);
    if (a > absMax[c]!) absMax[c] = a;
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = absMax[c]! > 0 ? absMax[c]! / qmax : 1;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven(values[i]! / scales[c]!)));
  }
  return { values: q, scales };
}

/**
 * How weights are stored. `int8`: 7-bit symmetric in [-63, 63] ({@link WEIGHT_QMAX}); onnxruntime runs it on its
 * fastest u8s8 kernels. `uint8`: full 8-bit symmetric, stored with zero point 128
 * ({@link quantizeWeightPerChannelU8}); half the rounding noise, on the u8u8 kernels, which are slower on some
 * x86 CPUs. Both compute exactly the same integer sums on every CPU.
 */
export type WeightType = 'int8' | 'uint8';

/**
 * Full 8-bit weights stored as uint8 with zero point 128 (values 1..255 for [-127, 127]): onnxruntime runs
 * uint8 × uint8 products ("U8U8") on x86 by widening both sides to int16 and multiplying with `vpmaddwd`,
 * which sums into int32 without saturation, and on ARM with exact unsigned dot products; no CPU path
 * saturates, so the full 8-bit resolution is safe where the int8 ("U8S8") path needs 7-bit weights. onnxruntime
 * itself converts u8s8 products to u8u8 on x86 CPUs without VNNI for this reason (session option
 * `session.x64quantprecision`). Measured on an AMD EPYC without VNNI: a Conv with every activation at 255 and
 * every weight at +127 computes exactly what the float simulation of its QDQ graph does as uint8 weights, and
 * is off by half its output as int8 weights (server/src/convert/kernel-safety.test.ts checks the same).
 */
export function quantizeWeightPerChannelU8(
  values: Float32Array,
  dims: number[],
  axis: number,
): { values: Uint8Array; scales: Float32Array } {
  const q = quantizeWeightPerChannel(values, dims, axis, 127);
  return { values: Uint8Array.from(q.values, (v) => v + 128), scales: q.scales };
}

/** int32 bias with scale inputScale × weightScale[c] and zero point 0, as QLinearConv and QGemm expect. */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { values: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(bias.length);
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = inputScale * (weightScales.length === 1 ? weightScales[0]! : weightScales[c]!);
    scales[c] = s;
    values[c] = Math.max(-2147483647, Math.min(2147483647, roundHalfEven(bias[c]! / s)));
  }
  return { values, scales };
}

/** The p-th percentile (0..100) of a sorted array, by linear interpolation. */
export function percentileOfSorted(sorted: Float32Array, p: number): number {
  if (sorted.length === 0) return 0;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
