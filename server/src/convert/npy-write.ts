// Writes NumPy .npy arrays (format 1.0, C order): float32 rows and int64 labels for tools outside Flotilla.

/** .npy bytes of `data` with `shape`; float32 as `<f4`, labels (Int32Array / BigInt64Array) as `<i8`. */
export function encodeNpy(data: Float32Array | Int32Array | BigInt64Array, shape: number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<i8';
  const values = data instanceof Int32Array ? BigInt64Array.from(data, (v) => BigInt(v)) : data;
  const dims = shape.join(', ') + (shape.length === 1 ? ',' : '');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // The header (with magic, version and length) is padded to a multiple of 64 bytes and ends in a newline.
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}
