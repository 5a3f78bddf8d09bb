// Assembling a payload file from chunks fetched one by one, checking each chunk and then the file (SPEC §4.9, §10).
import { BundleError } from './errors.ts';
import { DEFAULT_LIMITS, type BundleLimits } from './limits.ts';
import { sha256Hex, type Sha256Hex } from './bytes.ts';
import type { ChunkRef } from './chunking/fastcdc.ts';
import type { ManifestFile } from './manifest/types.ts';

/** Returns a chunk's bytes by its SHA-256 hex digest, or undefined when it is not held. */
export type ChunkSource = (digest: string) => Uint8Array | undefined;
/** Asynchronous {@link ChunkSource} (a disk store, a network fetch). */
export type AsyncChunkSource = (digest: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** Options for assembling. */
export interface AssembleOptions {
  /** Bounds the declared file size before allocating. Default `DEFAULT_LIMITS`. */
  readonly limits?: BundleLimits;
  /** SHA-256 implementation. Default @noble/hashes. */
  readonly sha256?: Sha256Hex;
  /** Skip per-chunk hashing because the caller has verified every chunk already (lengths are still checked). */
  readonly chunksVerified?: boolean;
}

/** Throws `BUNDLE_CHUNK_CORRUPT` unless `bytes` are exactly the chunk `ref` names (length and SHA-256). */
export function verifyChunk(ref: Pick<ChunkRef, 'digest' | 'length'>, bytes: Uint8Array, hash: Sha256Hex = sha256Hex): void {
  if (bytes.length !== ref.length) {
    throw new BundleError('BUNDLE_CHUNK_CORRUPT', `chunk ${ref.digest} is ${bytes.length} bytes, manifest says ${ref.length}`, 'SPEC §4.9');
  }
  if (hash(bytes) !== ref.digest)
    throw new BundleError('BUNDLE_CHUNK_CORRUPT', `chunk ${ref.digest} does not match its digest`, 'SPEC §4.9');
}

/**
 * Builds `file` from its chunks: each chunk is checked against its digest as it is placed
 * (`BUNDLE_CHUNK_MISSING`, `BUNDLE_CHUNK_CORRUPT`), then the whole file against its size and
 * SHA-256 (`BUNDLE_FILE_CORRUPT`). Call it only on a manifest that passed `verifyManifest`.
 */
export function assembleFile(file: ManifestFile, getChunk: ChunkSource, options: AssembleOptions = {}): Uint8Array {
  const { out, place, finish } = assembler(file, options);
  for (const ref of file.chunks) place(ref, getChunk(ref.digest));
  finish();
  return out;
}

/** {@link assembleFile} with an asynchronous chunk source; chunks are requested one at a time, in order. */
export async function assembleFileAsync(
  file: ManifestFile,
  getChunk: AsyncChunkSource,
  options: AssembleOptions = {},
): Promise<Uint8Array> {
  const { out, place, finish } = assembler(file, options);
  for (const ref of file.chunks) place(ref, await getChunk(ref.digest));
  finish();
  return out;
}

function assembler(file: ManifestFile, options: AssembleOptions) {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const hash = options.sha256 ?? sha256Hex;
  if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size > limits.maxFileBytes) {
    throw new BundleError('BUNDLE_TOO_LARGE', `file ${file.path} declares ${file.size} bytes, limit ${limits.maxFileBytes}`, 'SPEC §8.2');
  }
  const out = new Uint8Array(file.size);
  let filled = 0;
  const place = (ref: ChunkRef, bytes: Uint8Array | undefined) => {
    if (!bytes) throw new BundleError('BUNDLE_CHUNK_MISSING', `chunk ${ref.digest} of ${file.path} is not available`, 'SPEC §10');
    if (!options.chunksVerified || bytes.length !== ref.length) verifyChunk(ref, bytes, hash);
    if (ref.offset !== filled || filled + ref.length > file.size) {
      throw new BundleError('BUNDLE_FILE_CORRUPT', `chunks of ${file.path} do not tile the file`, 'SPEC §4.9');
    }
    out.set(bytes, filled);
    filled += ref.length;
  };
  const finish = () => {
    if (filled !== file.size || hash(out) !== file.sha256) {
      throw new BundleError('BUNDLE_FILE_CORRUPT', `file ${file.path} does not match its size and sha256`, 'SPEC §4.9');
    }
  };
  return { out, place, finish };
}
