// Typed tensors of any ONNX element type the agent serves: their types, checked conversion of app values
// (typed arrays, flat or nested number arrays, bigint, booleans) into them, float16 bits, and plain JSON.
import { TENSOR_DTYPES, type TensorDtype } from '@flotilla/firmware-bundler';
import { AgentError } from '../errors.ts';

/** Element types a model input or output may have: the manifest's (ONNX names, lower case) but strings, which are not served. */
export type TensorType = Exclude<TensorDtype, 'string'>;
export const TENSOR_TYPES: readonly TensorType[] = TENSOR_DTYPES.filter((t): t is TensorType => t !== 'string');

/**
 * The storage of each type, as onnxruntime takes and gives it: float16 as its raw IEEE 754 half bits
 * (Uint16Array), bool as 0/1 bytes (Uint8Array), int64/uint64 as BigInt64Array/BigUint64Array.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A dense, row-major tensor: what named predictions take and give. */
export interface Tensor {
  type: TensorType;
  dims: readonly number[];
  data: TensorData;
}

/** One element as an app may write it. */
export type TensorScalar = number | bigint | boolean;
/** Values as nested arrays (`[[1, 2], [3, 4]]`, dims inferred) or flat (row-major, dims given). */
export type NestedValues = readonly (TensorScalar | NestedValues)[];

/**
 * A named input as an app gives it. `type` defaults to the model's and must equal it when given;
 * `dims` may be left out for nested arrays (inferred) or for inputs whose shape is fully fixed.
 * int64 takes a BigInt64Array or safe integers; float16 takes Uint16Array half bits or numbers;
 * bool takes a Uint8Array of 0/1 or booleans.
 */
export interface TensorInput {
  type?: TensorType;
  dims?: readonly number[];
  data: TensorData | NestedValues | ArrayLike<number>;
}

/** A tensor with numbers only, for JSON: int64 as numbers (strings when any is beyond 2^53), float16 decoded. */
export interface TensorJson {
  type: TensorType;
  dims: number[];
  data: number[] | string[];
}

/** What a tensor must look like: its declared type and shape (`null` for a dynamic dimension). */
export interface TensorSpecLike {
  name: string;
  dtype: string;
  shape: readonly (number | null)[];
}

const INT_RANGE: Partial<Record<TensorType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const CTORS: Record<TensorType, new (n: number) => TensorData> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** Whether `t` names a type the agent can serve. */
export function isTensorType(t: unknown): t is TensorType {
  return (TENSOR_TYPES as readonly unknown[]).includes(t);
}

const invalid = (message: string) => new AgentError('AGENT_INPUT_INVALID', message);

/** Number of elements of `dims` (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** `[1, null, 8]` → `[1, ?, 8]` for messages. */
export function shapeText(shape: readonly (number | null | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`;
}

/**
 * Turns an app's value for input `spec` into a {@link Tensor}, or throws AGENT_INPUT_INVALID naming what is
 * wrong: the type, the rank, a fixed dimension, dims that are not sizes, or data whose length is not the
 * product of the dims. `maxElements` bounds the size before anything is allocated.
 */
export function toTensor(spec: TensorSpecLike, value: unknown, maxElements = Number.MAX_SAFE_INTEGER): Tensor {
  const name = spec.name;
  if (!isTensorType(spec.dtype)) throw invalid(`input ${name} is ${spec.dtype}, which the agent cannot feed`);
  const type = spec.dtype;
  if (typeof value !== 'object' || value === null || !('data' in value)) throw invalid(`input ${name} must be { type, dims, data }`);
  const v = value as { type?: unknown; dims?: unknown; data: unknown };
  if (v.type !== undefined && v.type !== type) throw invalid(`input ${name} is ${type}, got type ${JSON.stringify(v.type)}`);
  const { flat, inferred } = flatten(name, v.data, maxElements);
  let dims: number[];
  if (v.dims !== undefined) {
    if (!Array.isArray(v.dims) || !v.dims.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw invalid(`input ${name}: dims must be an array of non-negative integers`);
    dims = v.dims as number[];
    if (inferred && (inferred.length !== dims.length || inferred.some((d, i) => d !== dims[i])))
      throw invalid(`input ${name}: dims ${shapeText(dims)} do not match the nested data's ${shapeText(inferred)}`);
  } else if (inferred) {
    dims = inferred;
  } else if (spec.shape.every((d) => typeof d === 'number')) {
    dims = spec.shape as number[];
  } else {
    throw invalid(`input ${name} has dynamic dimensions ${shapeText(spec.shape)}: give its dims, or the data as nested arrays`);
  }
  if (dims.length !== spec.shape.length)
    throw invalid(`input ${name} has rank ${spec.shape.length} ${shapeText(spec.shape)}, got dims ${shapeText(dims)}`);
  spec.shape.forEach((d, i) => {
    if (typeof d === 'number' && d !== dims[i])
      throw invalid(`input ${name}: dimension ${i} is fixed at ${d}, got ${dims[i]} (shape ${shapeText(spec.shape)})`);
  });
  const count = elementCount(dims);
  if (count > maxElements)
    throw invalid(`input ${name}: dims ${shapeText(dims)} hold ${count} elements, more than the ${maxElements} allowed`);
  if (flat.length !== count) throw invalid(`input ${name}: dims ${shapeText(dims)} need ${count} values, got ${flat.length}`);
  return { type, dims, data: convert(name, type, flat) };
}

/** Flat values of `data` and, for nested arrays, the dims they spell. */
function flatten(name: string, data: unknown, maxElements: number): { flat: ArrayLike<unknown>; inferred: number[] | null } {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return { flat: data as unknown as ArrayLike<unknown>, inferred: null };
  if (!Array.isArray(data)) throw invalid(`input ${name}: data must be a typed array or an array of numbers`);
  if (!data.some(Array.isArray)) return { flat: data, inferred: null };
  const dims: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) {
    dims.push(level.length);
    if (dims.length > 32) throw invalid(`input ${name}: nested deeper than 32 levels`);
  }
  const count = elementCount(dims);
  if (count > maxElements) throw invalid(`input ${name}: the nested data holds ${count} elements, more than the ${maxElements} allowed`);
  const flat: unknown[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === dims.length) {
      if (Array.isArray(node)) throw invalid(`input ${name}: nested arrays are ragged (deeper than ${dims.length} levels somewhere)`);
      flat.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== dims[depth])
      throw invalid(`input ${name}: nested arrays are ragged (level ${depth} should hold ${dims[depth]} entries)`);
    for (const child of node) walk(child, depth + 1);
  };
  walk(data, 0);
  return { flat, inferred: dims };
}

function convert(name: string, type: TensorType, flat: ArrayLike<unknown>): TensorData {
  const Ctor = CTORS[type];
  // The storage onnxruntime wants, given as such: used as it is (no copy). float16 in a Uint16Array is bits.
  if (flat instanceof Ctor && (type !== 'bool' || (flat as Uint8Array).every((b) => b <= 1))) return flat as TensorData;
  const out = new Ctor(flat.length);
  const bad = (i: number, why: string) => invalid(`input ${name}[${i}] = ${String(flat[i])}: ${why}`);
  for (let i = 0; i < flat.length; i++) {
    const x = flat[i];
    switch (type) {
      case 'float32':
      case 'float64':
      case 'float16': {
        if (typeof x !== 'number' && typeof x !== 'bigint') throw bad(i, `${type} needs numbers`);
        (out as Float32Array)[i] = type === 'float16' ? floatToHalf(Number(x)) : Number(x);
        break;
      }
      case 'bool': {
        if (x === true || x === 1) out[i] = 1;
        else if (x === false || x === 0) out[i] = 0;
        else throw bad(i, 'bool needs true/false or 1/0');
        break;
      }
      case 'int64':
      case 'uint64': {
        let b: bigint;
        if (typeof x === 'bigint') b = x;
        else if (typeof x === 'number' && Number.isSafeInteger(x)) b = BigInt(x);
        else throw bad(i, `${type} needs integers within ±2^53 (or bigint)`);
        if (type === 'uint64' ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n)
          throw bad(i, `out of ${type} range`);
        (out as BigInt64Array)[i] = b;
        break;
      }
      default: {
        const [lo, hi] = INT_RANGE[type]!;
        const n = typeof x === 'bigint' ? Number(x) : x;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(i, `${type} needs integers`);
        if (n < lo || n > hi) throw bad(i, `out of ${type} range [${lo}, ${hi}]`);
        (out as Int32Array)[i] = n;
      }
    }
  }
  return out;
}

/** A tensor of zeros (false for bool) with `dims`: the smoke input of a probe. */
export function zeroTensor(type: TensorType, dims: readonly number[]): Tensor {
  return { type, dims, data: new CTORS[type](elementCount(dims)) };
}

/** The elements as plain numbers (int64 rounded to the nearest double, float16 decoded, bool 0/1). */
export function tensorNumbers(t: Pick<Tensor, 'type' | 'data'>): Float64Array {
  const out = new Float64Array(t.data.length);
  if (t.type === 'float16') for (let i = 0; i < out.length; i++) out[i] = halfToFloat((t.data as Uint16Array)[i]!);
  else for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]!);
  return out;
}

/** A tensor as JSON carries it: int64/uint64 as numbers, or all as decimal strings when one exceeds 2^53. */
export function tensorToJson(t: Tensor): TensorJson {
  const dims = [...t.dims];
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) {
    const big = t.data as ArrayLike<bigint>;
    let safe = true;
    for (let i = 0; i < big.length && safe; i++)
      safe = big[i]! <= BigInt(Number.MAX_SAFE_INTEGER) && big[i]! >= -BigInt(Number.MAX_SAFE_INTEGER);
    return { type: t.type, dims, data: safe ? Array.from(big, Number) : Array.from(big, String) };
  }
  return { type: t.type, dims, data: Array.from(tensorNumbers(t)) };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half bits of `x`, rounded to nearest even (as onnxruntime and numpy round). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Rounding may carry into the exponent, which is exactly right (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** The number IEEE 754 half bits `h` stand for. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
