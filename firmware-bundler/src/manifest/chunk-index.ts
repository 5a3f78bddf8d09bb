// The distinct chunks a manifest names, in first-use order: the container's chunk table order (SPEC §2.4).
import type { BundleManifest } from './types.ts';

/** A distinct chunk: SHA-256 hex digest and length in bytes. */
export interface UniqueChunk {
  readonly digest: string;
  readonly length: number;
}

/** Distinct chunks of `manifest`, in the order files and their chunks first name them. */
export function uniqueChunks(manifest: Pick<BundleManifest, 'files'>): UniqueChunk[] {
  const seen = new Set<string>();
  const out: UniqueChunk[] = [];
  for (const file of manifest.files) {
    for (const c of file.chunks) {
      if (seen.has(c.digest)) continue;
      seen.add(c.digest);
      out.push({ digest: c.digest, length: c.length });
    }
  }
  return out;
}
