// Helpers for the dataset tests only: a throwaway blob store and ways to feed text in awkward chunks.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../blob/file-blob-store.ts';

/** A FileBlobStore in a fresh temp directory. */
export function tempBlobs(): { blobs: FileBlobStore; dir: string; tmpDir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-datasets-'));
  return { blobs: new FileBlobStore(dir), dir, tmpDir: join(dir, 'tmp'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative paths, recursively. */
export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

/** `text` as UTF-8 byte chunks of `size` bytes, cutting through characters and CRLFs alike. */
export async function* byteChunks(text: string | Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/** A source that yields `text` and then fails, like an upload cut off mid-way. */
export async function* failingAfter(text: string, error: Error): AsyncGenerator<string> {
  yield text;
  throw error;
}
