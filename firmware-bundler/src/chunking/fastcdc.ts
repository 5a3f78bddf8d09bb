// FastCDC content-defined chunking (Xia et al., 2016) with normalized chunking level 2 (SPEC §5).
import { BundleError } from '../errors.ts';
import { sha256Hex, type Sha256Hex } from '../bytes.ts';
import { GEAR } from './gear-table.ts';

/** Name of the chunking algorithm, written into every manifest (SPEC §5.1). */
export const CHUNKING_ALGORITHM = 'fastcdc-gear32-nc2';

/** Default average chunk size in bytes: 16 KiB. */
export const DEFAULT_AVG_CHUNK_SIZE = 16 * 1024;

/** Bounds on the average chunk size, in bytes; it must also be a power of two. */
export const MIN_AVG_CHUNK_SIZE = 256;
export const MAX_AVG_CHUNK_SIZE = 256 * 1024;

/** Chunker parameters as the manifest records them (SPEC §5.1). Sizes in bytes. */
export interface ChunkingParams {
  readonly algorithm: typeof CHUNKING_ALGORITHM;
  /** No cut before this many bytes (avgSize / 4). */
  readonly minSize: number;
  /** Target mean chunk length (a power of two). */
  readonly avgSize: number;
  /** Forced cut at this many bytes (avgSize × 4). */
  readonly maxSize: number;
}

/** One chunk of a file: its SHA-256 (hex) and where it lies in the file. Offsets and lengths in bytes. */
export interface ChunkRef {
  readonly digest: string;
  readonly offset: number;
  readonly length: number;
}

/** Options for {@link chunkFile}. */
export interface ChunkingOptions {
  /** Average chunk size in bytes, a power of two in [256, 262144]. Default 16384. */
  readonly avgSize?: number;
  /** SHA-256 implementation. Default @noble/hashes. */
  readonly sha256?: Sha256Hex;
}

/** Chunker parameters for an average size; throws `BUNDLE_INPUT_INVALID` for an unsupported one. */
export function chunkingParams(options: ChunkingOptions = {}): ChunkingParams {
  const avgSize = options.avgSize ?? DEFAULT_AVG_CHUNK_SIZE;
  const ok = Number.isInteger(avgSize) && avgSize >= MIN_AVG_CHUNK_SIZE && avgSize <= MAX_AVG_CHUNK_SIZE && (avgSize & (avgSize - 1)) === 0;
  if (!ok) {
    throw new BundleError(
      'BUNDLE_INPUT_INVALID',
      `average chunk size must be a power of two in [${MIN_AVG_CHUNK_SIZE}, ${MAX_AVG_CHUNK_SIZE}], got ${avgSize}`,
      'SPEC §5.1',
    );
  }
  return { algorithm: CHUNKING_ALGORITHM, minSize: avgSize / 4, avgSize, maxSize: avgSize * 4 };
}

/** A mask of `bits` one-bits at the top of a 32-bit word: the top bits of the gear hash see the most bytes. */
function topMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

/**
 * End offsets (exclusive) of the content-defined chunks of `data`; the last is `data.length`.
 * Deterministic on every platform: integer arithmetic only, and a fixed gear table (SPEC §5.2).
 */
export function chunkBoundaries(data: Uint8Array, params: ChunkingParams): number[] {
  const bits = Math.log2(params.avgSize);
  // Normalized chunking: a harder mask before the average point, an easier one after it (SPEC §5.3).
  const maskS = topMask(bits + 2);
  const maskL = topMask(bits - 2);
  const cuts: number[] = [];
  let start = 0;
  while (start < data.length) {
    start = nextCut(data, start, params, maskS, maskL);
    cuts.push(start);
  }
  return cuts;
}

function nextCut(data: Uint8Array, start: number, p: ChunkingParams, maskS: number, maskL: number): number {
  const remaining = data.length - start;
  if (remaining <= p.minSize) return data.length;
  const stop = start + Math.min(remaining, p.maxSize);
  const normal = start + Math.min(remaining, p.avgSize);
  const gear = GEAR;
  let h = 0;
  let i = start + p.minSize;
  for (; i < normal; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & maskS) === 0) return i + 1;
  }
  for (; i < stop; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & maskL) === 0) return i + 1;
  }
  return stop;
}

/**
 * Splits a file into content-defined chunks, each with its SHA-256, in file order. An empty file
 * has no chunks. Identical content yields identical chunks whatever surrounds it, so a new model
 * version reuses every chunk whose bytes did not change (SPEC §5.4).
 */
export function chunkFile(bytes: Uint8Array, options: ChunkingOptions = {}): ChunkRef[] {
  const params = chunkingParams(options);
  const hash = options.sha256 ?? sha256Hex;
  const refs: ChunkRef[] = [];
  let offset = 0;
  for (const end of chunkBoundaries(bytes, params)) {
    refs.push({ digest: hash(bytes.subarray(offset, end)), offset, length: end - offset });
    offset = end;
  }
  return refs;
}
