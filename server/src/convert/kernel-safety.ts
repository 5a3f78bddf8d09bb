// Whether an int8 model computes the same thing on every CPU's onnxruntime kernels, read from the model file itself.
import { DataType, readTensor, type ModelProto } from '@flotilla/firmware-bundler/onnx';

/**
 * int8 values every onnxruntime kernel path multiplies exactly. x86 CPUs without VNNI (AVX2 only) run
 * u8s8 products through `vpmaddubsw`, which saturates a pair sum beyond int16: onnxruntime's quantization
 * notes put the safe weight range at [-64, 63]. Inside it, AVX2, AVX-512, VNNI and ARM give the same
 * integer sums, so parity measured on the server's CPU holds on the weakest device CPU.
 */
export const SAFE_INT8_RANGE = { min: -64, max: 63 } as const;

/** What the safety check found in a model. */
export interface KernelSafety {
  /** int8 constant tensors (weights and their zero points) examined. */
  int8Tensors: number;
  /** Smallest and largest int8 value over all of them; 0 when there are none. */
  min: number;
  max: number;
  /** Tensors with a value outside {@link SAFE_INT8_RANGE}: wrong on x86 CPUs without VNNI. */
  outside: { name: string; min: number; max: number }[];
}

/**
 * Every int8 initializer counts, not only those feeding a Conv or MatMul: being conservative can only turn
 * a correct model into a refused one, never let a saturating one through. uint8 weights (the quantizer's full
 * 8-bit scheme, zero point 128) are not examined: onnxruntime multiplies uint8 by uint8 without saturation on every
 * kernel path (widened to int16 and `vpmaddwd` on x86, unsigned dot products on ARM), whatever their values.
 */
export function kernelSafety(model: ModelProto): KernelSafety {
  let min = 0;
  let max = 0;
  let int8Tensors = 0;
  const outside: KernelSafety['outside'] = [];
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DataType.INT8) continue;
    int8Tensors++;
    const values = readTensor(t) as Int8Array;
    let lo = 0;
    let hi = 0;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min = Math.min(min, lo);
    max = Math.max(max, hi);
    if (lo < SAFE_INT8_RANGE.min || hi > SAFE_INT8_RANGE.max) outside.push({ name: t.name ?? '', min: lo, max: hi });
  }
  return { int8Tensors, min, max, outside };
}
