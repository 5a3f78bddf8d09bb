// Fetching the blobs a bundle needs and the device lacks: each one verified before it is stored, a bad one fetched again.
import { verifyChunk, isBundleError, type Sha256Hex, type UniqueChunk } from '@flotilla/firmware-bundler';
import { MAX_ENVELOPE_BYTES } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import type { BlobSource } from '../transport/blob-source.ts';
import type { ChunkStore } from './chunk-store.ts';

/** Options of {@link downloadChunks}. */
export interface DownloadOptions {
  /** Parallel fetches (the blob source also caps its own window). Default 8. */
  parallel?: number;
  /** Fetches of one blob that may fail verification before the download fails. Default 5. */
  maxCorrupt?: number;
  signal?: AbortSignal;
  /** Called for every blob that failed verification and is being fetched again. */
  onRejected?: (digest: string, reason: string) => void;
  /** Called after each stored chunk with the totals so far [WIRE-2.3.1]. */
  onProgress?: (report: DownloadReport) => void;
}

/** Totals of a download. */
export interface DownloadReport {
  fetched: number;
  bytes: number;
  rejected: number;
}

/**
 * Fetches every chunk of `plan` from `source` into `store`. Each chunk is checked against its
 * length and SHA-256 before it is stored; a chunk that fails is counted, reported through
 * `onRejected` and fetched again, up to `maxCorrupt` times (then BUNDLE_CHUNK_CORRUPT).
 */
export async function downloadChunks(
  plan: readonly UniqueChunk[],
  source: BlobSource,
  store: ChunkStore,
  hash: Sha256Hex,
  o: DownloadOptions = {},
): Promise<DownloadReport> {
  const report: DownloadReport = { fetched: 0, bytes: 0, rejected: 0 };
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const chunk = plan[next++]!;
      const bytes = await fetchVerified(chunk.digest, chunk.length, (b) => verifyChunk(chunk, b, hash), source, o, report);
      await store.put(chunk.digest, bytes);
      report.fetched++;
      report.bytes += bytes.length;
      o.onProgress?.(report);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel ?? 8, plan.length) }, worker));
  return report;
}

/** Fetches one blob whose only known property is its digest (the envelope), verified the same way and no larger than any envelope may be. */
export function fetchBlob(digest: string, source: BlobSource, hash: Sha256Hex, o: DownloadOptions = {}): Promise<Uint8Array> {
  const check = (b: Uint8Array) => {
    if (hash(b) !== digest) throw new AgentError('AGENT_ENVELOPE_INVALID', `blob does not hash to ${digest}`);
  };
  return fetchVerified(digest, MAX_ENVELOPE_BYTES, check, source, o, { fetched: 0, bytes: 0, rejected: 0 });
}

async function fetchVerified(
  digest: string,
  maxBytes: number,
  check: (b: Uint8Array) => void,
  source: BlobSource,
  o: DownloadOptions,
  report: DownloadReport,
): Promise<Uint8Array> {
  for (let tries = 1; ; tries++) {
    const bytes = await source.fetch(digest, maxBytes, o.signal);
    try {
      check(bytes);
      return bytes;
    } catch (err) {
      if (!isBundleError(err) && !(err instanceof AgentError)) throw err;
      report.rejected++;
      o.onRejected?.(digest, (err as Error).message);
      if (tries >= (o.maxCorrupt ?? 5)) throw err;
    }
  }
}
