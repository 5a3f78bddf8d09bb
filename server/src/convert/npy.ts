// Reads NumPy .npy arrays (format 1.0-3.0, C order, float32/float64/uint8/int8 and more) into float32 samples.
import { ConvertError } from './convert-error.ts';

/** A parsed .npy array, converted to float32. */
export interface NpyArray {
  shape: number[];
  /** The file's dtype descriptor, e.g. `<f4`, `|u1`. */
  dtype: string;
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function bad(msg: string): never {
  throw new ConvertError('CALIBRATION_FILE_INVALID', `invalid .npy file: ${msg}`);
}

const READERS: Record<string, { size: number; read: (v: DataView, o: number, le: boolean) => number }> = {
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i8: { size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  b1: { size: 1, read: (v, o) => v.getUint8(o) },
};

/** Parses .npy bytes; Fortran order, object arrays and structured dtypes are refused. */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) bad('missing \\x93NUMPY magic');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) bad('header runs past the end');
  const header = new TextDecoder(major >= 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) bad(`unreadable header ${JSON.stringify(header)}`);
  if (fortran === 'True') bad('Fortran order is not supported; save with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`bad shape (${shapeText})`);
  const order = descr[0];
  const reader = READERS[descr.slice(1)];
  if (!reader || !['<', '>', '|', '='].includes(order!)) bad(`dtype ${descr} is not supported`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (offset + count * reader.size > bytes.length) bad(`data holds ${bytes.length - offset} bytes, shape needs ${count * reader.size}`);
  const le = order !== '>';
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = reader.read(view, offset + i * reader.size, le);
  return { shape, dtype: descr, data };
}
