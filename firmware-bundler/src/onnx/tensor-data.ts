// Reading and writing TensorProto contents as typed arrays (raw_data little-endian, or the typed *_data fields).
import { DataType, type TensorProto } from './onnx-types.ts';
import { OnnxError } from './onnx-error.ts';

/** The typed array each supported element type reads into. */
export type TensorValues = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array;

const TYPED: Record<number, { bytes: number; make: (buf: ArrayBuffer, n: number) => TensorValues; name: string }> = {
  [DataType.FLOAT]: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n), name: 'float32' },
  [DataType.DOUBLE]: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n), name: 'float64' },
  [DataType.INT8]: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n), name: 'int8' },
  [DataType.UINT8]: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), name: 'uint8' },
  [DataType.BOOL]: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), name: 'bool' },
  [DataType.INT16]: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n), name: 'int16' },
  [DataType.UINT16]: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n), name: 'uint16' },
  [DataType.FLOAT16]: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n), name: 'float16' },
  [DataType.INT32]: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n), name: 'int32' },
  [DataType.INT64]: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n), name: 'int64' },
};

/** Human name of an ONNX element type (e.g. `float32`), for messages and signatures. */
export function dataTypeName(dataType: number | undefined): string {
  return TYPED[dataType ?? 0]?.name ?? `dtype#${dataType ?? 0}`;
}

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[] | undefined): number {
  return (dims ?? []).reduce((a, b) => a * b, 1);
}

/**
 * The elements of a tensor as a fresh typed array (FLOAT16 comes back as its raw uint16 bits).
 * Throws `ONNX_UNSUPPORTED` for external data, strings and element types without a typed array.
 */
export function readTensor(t: TensorProto): TensorValues {
  const spec = TYPED[t.dataType ?? 0];
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new OnnxError('ONNX_UNSUPPORTED', `tensor '${t.name}' keeps its data in an external file`);
  }
  if (!spec) throw new OnnxError('ONNX_UNSUPPORTED', `tensor '${t.name}' has unsupported element type ${dataTypeName(t.dataType)}`);
  const n = elementCount(t.dims);
  const buf = new ArrayBuffer(n * spec.bytes);
  const out = spec.make(buf, n);
  if (t.rawData) {
    if (t.rawData.length !== n * spec.bytes) {
      throw new OnnxError('ONNX_MALFORMED', `tensor '${t.name}' raw_data holds ${t.rawData.length} bytes, dims need ${n * spec.bytes}`);
    }
    new Uint8Array(buf).set(t.rawData);
    return out;
  }
  const source: ArrayLike<number | bigint> =
    t.dataType === DataType.FLOAT
      ? (t.floatData ?? [])
      : t.dataType === DataType.DOUBLE
        ? (t.doubleData ?? [])
        : t.dataType === DataType.INT64
          ? (t.int64Data ?? [])
          : (t.int32Data ?? []);
  if (source.length !== n) {
    throw new OnnxError('ONNX_MALFORMED', `tensor '${t.name}' holds ${source.length} values, dims need ${n}`);
  }
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(source[i]!);
  else for (let i = 0; i < n; i++) out[i] = Number(source[i]);
  return out;
}

/** Reads any real-valued tensor (float, double, float16, integers) as float32. */
export function readTensorAsFloat32(t: TensorProto): Float32Array {
  const v = readTensor(t);
  if (v instanceof Float32Array) return v;
  const out = new Float32Array(v.length);
  if (t.dataType === DataType.FLOAT16) for (let i = 0; i < v.length; i++) out[i] = halfToFloat(v[i] as number);
  else for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const DTYPE_OF = new Map<unknown, number>([
  [Float32Array, DataType.FLOAT],
  [Float64Array, DataType.DOUBLE],
  [Int8Array, DataType.INT8],
  [Uint8Array, DataType.UINT8],
  [Int16Array, DataType.INT16],
  [Uint16Array, DataType.UINT16],
  [Int32Array, DataType.INT32],
  [BigInt64Array, DataType.INT64],
]);

/**
 * A tensor holding `values` in raw_data; the element type follows the typed array (Uint8Array is UINT8),
 * or `dataType` when given (e.g. BOOL for a Uint8Array).
 */
export function makeTensor(name: string, dims: readonly number[], values: TensorValues, dataType?: number): TensorProto {
  const dt = dataType ?? DTYPE_OF.get(values.constructor);
  if (dt === undefined) throw new OnnxError('ONNX_UNSUPPORTED', `no ONNX element type for ${values.constructor.name}`);
  if (elementCount(dims) !== values.length) {
    throw new OnnxError('ONNX_MALFORMED', `tensor '${name}': ${values.length} values for dims [${dims.join(',')}]`);
  }
  const rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  return { name, dims: [...dims], dataType: dt, rawData };
}

/** A float32 tensor (copies `values`). */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return makeTensor(name, dims, Float32Array.from(values));
}

/** An int64 tensor, e.g. a shape or axes input (copies `values`). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return makeTensor(name, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
}
