// FDS1, the canonical byte encoding of a dataset version (spec: fds1-spec.md). A version's digest is
// the sha256 of these bytes, so the encoding is strict: one dataset has exactly one encoding, and the
// decoder refuses any other (unsorted keys, unsorted classes, NaN, -0, trailing bytes) [FDS1-8].
//
// Layout (all integers little-endian):
//   [0, 4)        magic "FDS1" (ASCII)                                                     [FDS1-1]
//   [4, 8)        uint32 format version, 1
//   [8, 12)       uint32 H, header length in bytes, a multiple of 4
//   [12, 12+H)    header: canonical JSON (sorted keys, no whitespace) of                   [FDS1-2]
//                 { classes, dtype: "float32", featureNames, featureShape, rows }, UTF-8, followed by
//                 0-3 spaces so the features start 4-byte aligned
//   then          rows * product(featureShape) float32, row-major; finite, +0 never -0     [FDS1-5]
//   then          rows int32 labels, each an index into `classes`                          [FDS1-6]
import { BundleError, canonicalJson } from '@flotilla/firmware-bundler';
import { sortClasses } from './class-order.ts';
import { DatasetError } from './dataset-error.ts';
import type { Dataset, DatasetMeta } from './dataset-types.ts';

export const FDS_MAGIC = 'FDS1';
export const FDS_VERSION = 1;
/** Bytes before the header JSON: magic, version, header length. */
export const FDS_PREFIX_BYTES = 12;

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const META_KEYS = ['classes', 'dtype', 'featureNames', 'featureShape', 'rows'];

/** Number of float32 values in one row: the product of the feature shape. */
export function featuresPerRow(featureShape: readonly number[]): number {
  return featureShape.reduce((a, b) => a * b, 1);
}

/** Total encoded size in bytes of a version with this header. */
export function encodedSize(meta: DatasetMeta): number {
  return encodeDatasetHeader(meta).byteLength + 4 * meta.rows * (featuresPerRow(meta.featureShape) + 1);
}

/**
 * Encodes the prefix and header of a version: everything before the features. Throws `DATASET_INVALID`
 * when `meta` is not canonical (e.g. classes out of order).
 */
export function encodeDatasetHeader(meta: DatasetMeta): Uint8Array {
  const problem = metaProblem(meta);
  if (problem) throw new DatasetError('DATASET_INVALID', `dataset header is invalid: ${problem}`);
  const json = new TextEncoder().encode(headerJson(pick(meta)));
  const h = Math.ceil(json.byteLength / 4) * 4;
  const out = new Uint8Array(FDS_PREFIX_BYTES + h).fill(0x20, FDS_PREFIX_BYTES + json.byteLength);
  out.set(new TextEncoder().encode(FDS_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, FDS_VERSION, true);
  view.setUint32(8, h, true);
  out.set(json, FDS_PREFIX_BYTES);
  return out;
}

/**
 * Encodes a whole in-memory dataset (e.g. MNIST: featureShape [28, 28, 1], classes '0'..'9').
 * `data` must agree with `meta` and hold only finite features and labels in [0, classes.length);
 * -0 is written as +0. Throws `DATASET_INVALID` otherwise.
 */
export function encodeDataset(meta: DatasetMeta, data: Dataset): Uint8Array {
  const header = encodeDatasetHeader(meta);
  const problem = dataProblem(meta, data.x, data.y) ?? shapeProblem(meta, data);
  if (problem) throw new DatasetError('DATASET_INVALID', `dataset does not match its header: ${problem}`);
  const out = new Uint8Array(header.byteLength + 4 * (data.x.length + data.y.length));
  out.set(header, 0);
  const x = new Float32Array(data.x);
  for (let i = 0; i < x.length; i++) if (x[i] === 0) x[i] = 0; // -0 === 0, so this turns -0 into +0
  out.set(toLittleEndian(x), header.byteLength);
  out.set(toLittleEndian(data.y), header.byteLength + 4 * x.length);
  return out;
}

/** Decodes and validates only the header; `dataOffset` is where the features begin. */
export function decodeDatasetHeader(bytes: Uint8Array): { meta: DatasetMeta; dataOffset: number } {
  if (bytes.byteLength < FDS_PREFIX_BYTES) malformed(`${bytes.byteLength} bytes is too short for a prefix`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== FDS_MAGIC) malformed('bad magic (not an FDS1 file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FDS_VERSION) malformed(`unsupported format version ${version}`);
  const h = view.getUint32(8, true);
  if (h % 4 !== 0) malformed(`header length ${h} is not a multiple of 4`);
  if (FDS_PREFIX_BYTES + h > bytes.byteLength) malformed(`header length ${h} runs past the end`);
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(FDS_PREFIX_BYTES, FDS_PREFIX_BYTES + h));
    parsed = JSON.parse(text);
  } catch {
    return malformed('header is not valid UTF-8 JSON');
  }
  const problem = metaProblem(parsed);
  if (problem) malformed(`header is invalid: ${problem}`);
  const meta = parsed as DatasetMeta;
  const expected = encodeDatasetHeader(meta);
  if (expected.byteLength !== FDS_PREFIX_BYTES + h || !sameBytes(expected, bytes.subarray(0, FDS_PREFIX_BYTES + h))) {
    malformed('header is not in canonical form');
  }
  return { meta, dataOffset: FDS_PREFIX_BYTES + h };
}

/**
 * Decodes and fully validates a version. Anything truncated, padded, corrupt or non-canonical throws a
 * `DatasetError` with code `DATASET_MALFORMED`. The returned arrays are copies, not views of `bytes`.
 */
export function decodeDataset(bytes: Uint8Array): { meta: DatasetMeta; data: Dataset } {
  const { meta, dataOffset } = decodeDatasetHeader(bytes);
  const nx = meta.rows * featuresPerRow(meta.featureShape);
  const expected = dataOffset + 4 * (nx + meta.rows);
  if (bytes.byteLength !== expected) malformed(`expected ${expected} bytes for ${meta.rows} rows, found ${bytes.byteLength}`);
  const x = fromLittleEndian(bytes.subarray(dataOffset, dataOffset + 4 * nx), Float32Array);
  const y = fromLittleEndian(bytes.subarray(dataOffset + 4 * nx, expected), Int32Array);
  const problem = dataProblem(meta, x, y) ?? negativeZero(x);
  if (problem) malformed(problem);
  return { meta, data: { x, y, n: meta.rows, featureShape: [...meta.featureShape], numClasses: meta.classes.length } };
}

/** The bytes of `a` in little-endian order: a view on little-endian hosts, a swapped copy otherwise. */
export function toLittleEndian(a: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return HOST_LE ? bytes : swap32(bytes);
}

function fromLittleEndian<T extends Float32Array | Int32Array>(bytes: Uint8Array, Ctor: { new (b: ArrayBuffer): T }): T {
  const copy = HOST_LE ? bytes.slice() : swap32(bytes);
  return new Ctor(copy.buffer as ArrayBuffer);
}

function swap32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < out.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}

// The bundle format's canonical JSON (RFC 8785), the one encoder in the project; metaProblem has already
// refused every missing member, so its leaving out `undefined` never changes a header.
function headerJson(meta: DatasetMeta): string {
  try {
    return canonicalJson(meta);
  } catch (e) {
    if (e instanceof BundleError) throw new DatasetError('DATASET_INVALID', `dataset header has no canonical form: ${e.message}`);
    throw e;
  }
}

function pick(m: DatasetMeta): DatasetMeta {
  return { classes: m.classes, dtype: m.dtype, featureNames: m.featureNames, featureShape: m.featureShape, rows: m.rows };
}

function metaProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not an object';
  const o = m as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !META_KEYS.includes(k));
  if (extra.length) return `unknown keys ${extra.join(', ')}`;
  if (o.dtype !== 'float32') return `dtype must be "float32"`;
  if (!isUint(o.rows)) return 'rows must be a non-negative integer';
  const shape = o.featureShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => isUint(d) && d > 0)) {
    return 'featureShape must be a non-empty list of positive integers';
  }
  const f = featuresPerRow(shape as number[]);
  if (!Number.isSafeInteger(f * o.rows * 4)) return 'dataset is too large';
  if (!isUniqueStrings(o.featureNames)) return 'featureNames must be distinct strings';
  if (o.featureNames.length !== 0 && o.featureNames.length !== f) return `featureNames must be empty or name all ${f} features`;
  if (!isUniqueStrings(o.classes) || o.classes.length === 0) return 'classes must be a non-empty list of distinct strings';
  const sorted = sortClasses(o.classes);
  if (sorted.some((c, i) => c !== (o.classes as string[])[i])) return 'classes are not in canonical order';
  return null;
}

function dataProblem(meta: DatasetMeta, x: Float32Array, y: Int32Array): string | null {
  const nx = meta.rows * featuresPerRow(meta.featureShape);
  if (x.length !== nx) return `${x.length} features for ${meta.rows} rows of ${featuresPerRow(meta.featureShape)}`;
  if (y.length !== meta.rows) return `${y.length} labels for ${meta.rows} rows`;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return `feature ${i} is ${x[i]}, not finite`;
  const k = meta.classes.length;
  for (let i = 0; i < y.length; i++) if (y[i]! < 0 || y[i]! >= k) return `label ${i} is ${y[i]}, outside [0, ${k})`;
  return null;
}

function shapeProblem(meta: DatasetMeta, data: Dataset): string | null {
  if (data.n !== meta.rows) return `n is ${data.n} but rows is ${meta.rows}`;
  if (data.numClasses !== meta.classes.length) return `numClasses is ${data.numClasses} but there are ${meta.classes.length} classes`;
  if (data.featureShape.join(',') !== meta.featureShape.join(','))
    return `featureShape [${data.featureShape}] differs from [${meta.featureShape}]`;
  return null;
}

function negativeZero(x: Float32Array): string | null {
  for (let i = 0; i < x.length; i++) if (Object.is(x[i], -0)) return `feature ${i} is -0, which is not canonical`;
  return null;
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isUniqueStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') && new Set(v).size === v.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

function malformed(message: string): never {
  throw new DatasetError('DATASET_MALFORMED', `malformed dataset: ${message}`);
}
