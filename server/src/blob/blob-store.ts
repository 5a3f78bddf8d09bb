// The BlobStore seam: content-addressed bytes (sha256, lowercase hex). Files locally; S3 later.
import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** sha256 of the content, lowercase hex. */
  digest: string;
  /** Size in bytes. */
  bytes: number;
}

export interface BlobStore {
  /** Stores bytes and returns their digest. Writing the same bytes twice is a no-op. */
  put(data: Uint8Array): Promise<BlobInfo>;
  /** Moves a finished temporary file into the store (hashing it as it reads). */
  putFile(tempPath: string): Promise<BlobInfo>;
  /** Whole content, or null when absent. */
  get(digest: string): Promise<Uint8Array | null>;
  /** A byte range [start, end] inclusive, or the whole blob; null when absent. */
  stream(digest: string, range?: { start: number; end: number }): Readable | null;
  stat(digest: string): Promise<BlobInfo | null>;
  has(digest: string): Promise<boolean>;
  /** Absolute path of a local file for this blob, where the store keeps files (else null). */
  localPath(digest: string): string | null;
  /** A fresh temporary path on the same file system, for writers that stream into `putFile`. */
  tempPath(hint?: string): string;
}
