// What a device holding one bundle must fetch to get another: chunk-level delta (SPEC §12).
import type { BundleManifest } from './manifest/types.ts';
import { uniqueChunks, type UniqueChunk } from './manifest/chunk-index.ts';

/** Per-file share of a {@link BundleDiff}. Bytes counted once per distinct chunk within the file. */
export interface FileDiff {
  readonly path: string;
  readonly size: number;
  readonly status: 'added' | 'changed' | 'unchanged';
  readonly bytesToFetch: number;
  readonly chunksToFetch: number;
}

/** The delta between what a device holds and a target bundle. Bytes are payload bytes. */
export interface BundleDiff {
  /** Bytes of the target's distinct chunks (the full download with nothing held). */
  readonly totalBytes: number;
  /** Bytes of the target's chunks the device does not hold. */
  readonly bytesToFetch: number;
  readonly bytesReused: number;
  /** bytesToFetch / totalBytes, in [0, 1]. */
  readonly shareToFetch: number;
  readonly chunksTotal: number;
  readonly chunksReused: number;
  readonly chunksToFetch: number;
  /** The chunks to fetch, in first-use order. */
  readonly toFetch: readonly UniqueChunk[];
  readonly files: readonly FileDiff[];
}

/**
 * The chunks of `target` for which `has(digest)` is false, with totals: the fetch plan of a device
 * whose chunk store answers `has`.
 */
export function planFetch(target: BundleManifest, has: (digest: string) => boolean, held?: BundleManifest | null): BundleDiff {
  const all = uniqueChunks(target);
  const toFetch = all.filter((c) => !has(c.digest));
  const totalBytes = sum(all);
  const bytesToFetch = sum(toFetch);
  const files = target.files.map((f): FileDiff => {
    const missing = uniqueChunks({ files: [f] }).filter((c) => !has(c.digest));
    const before = held?.files.find((g) => g.path === f.path);
    const status = !before ? 'added' : before.sha256 === f.sha256 ? 'unchanged' : 'changed';
    return { path: f.path, size: f.size, status, bytesToFetch: sum(missing), chunksToFetch: missing.length };
  });
  return {
    totalBytes,
    bytesToFetch,
    bytesReused: totalBytes - bytesToFetch,
    shareToFetch: totalBytes === 0 ? 0 : bytesToFetch / totalBytes,
    chunksTotal: all.length,
    chunksReused: all.length - toFetch.length,
    chunksToFetch: toFetch.length,
    toFetch,
    files,
  };
}

/** What a device holding every chunk of `held` (or nothing, when null) must fetch to get `target`. */
export function diffManifests(held: BundleManifest | null, target: BundleManifest): BundleDiff {
  const digests = new Set(held ? uniqueChunks(held).map((c) => c.digest) : []);
  return planFetch(target, (d) => digests.has(d), held);
}

function sum(chunks: readonly UniqueChunk[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}
