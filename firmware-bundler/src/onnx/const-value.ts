// Constant tensors as plain number arrays, for shape inference and constant folding of small (mostly shape) tensors.
import { DataType, type TensorProto } from './onnx-types.ts';
import { elementCount, makeTensor, readTensor } from './tensor-data.ts';

/** A constant's element type, dims and elements (int64 read as numbers; shape arithmetic stays far below 2^53). */
export interface ConstValue {
  dataType: number;
  dims: number[];
  data: number[];
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Element types the folder computes with; others (strings, float16) are left alone. */
const FOLDABLE = new Set<number>([
  DataType.FLOAT,
  DataType.DOUBLE,
  DataType.INT64,
  DataType.INT32,
  DataType.INT8,
  DataType.UINT8,
  DataType.BOOL,
  DataType.INT16,
  DataType.UINT16,
]);

/** Whether values of this element type are integers (integer division truncates, casts round toward zero). */
export const isIntegerType = (dt: number) => dt !== DataType.FLOAT && dt !== DataType.DOUBLE && dt !== DataType.FLOAT16;

/** Reads a tensor as a ConstValue, or undefined for element types the folder does not compute with. */
export function constFromTensor(t: TensorProto): ConstValue | undefined {
  const dataType = t.dataType ?? 0;
  if (!FOLDABLE.has(dataType) || t.dataLocation === 1) return undefined;
  const v = readTensor(t);
  return { dataType, dims: [...(t.dims ?? [])], data: Array.from(v as ArrayLike<number | bigint>, Number) };
}

/** Writes a ConstValue as an initializer; int64 values are clamped to the int64 range (PyTorch uses ±2^63 as "to the end"). */
export function constToTensor(name: string, v: ConstValue): TensorProto {
  const n = elementCount(v.dims);
  if (v.data.length !== n) throw new Error(`constant '${name}': ${v.data.length} values for dims [${v.dims.join(',')}]`);
  switch (v.dataType) {
    case DataType.FLOAT:
      return makeTensor(name, v.dims, Float32Array.from(v.data));
    case DataType.DOUBLE:
      return makeTensor(name, v.dims, Float64Array.from(v.data));
    case DataType.INT64:
      return makeTensor(
        name,
        v.dims,
        BigInt64Array.from(v.data, (x) => clampInt64(x)),
      );
    case DataType.INT32:
      return makeTensor(name, v.dims, Int32Array.from(v.data));
    case DataType.INT16:
      return makeTensor(name, v.dims, Int16Array.from(v.data));
    case DataType.UINT16:
      return makeTensor(name, v.dims, Uint16Array.from(v.data));
    case DataType.INT8:
      return makeTensor(name, v.dims, Int8Array.from(v.data));
    case DataType.UINT8:
    case DataType.BOOL:
      return makeTensor(name, v.dims, Uint8Array.from(v.data), v.dataType);
    default:
      throw new Error(`constant '${name}': element type ${v.dataType} is not foldable`);
  }
}

function clampInt64(x: number): bigint {
  if (!Number.isFinite(x)) return x > 0 ? INT64_MAX : INT64_MIN;
  const b = BigInt(Math.trunc(x));
  return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
}

/** Rounds a computed value to what its element type can hold (float32 rounding, integer wrap-free truncation). */
export function coerce(dataType: number, x: number): number {
  if (dataType === DataType.FLOAT) return Math.fround(x);
  if (dataType === DataType.DOUBLE) return x;
  if (dataType === DataType.BOOL) return x ? 1 : 0;
  return Math.trunc(x);
}
