// Chooses a BlobStore from a URI: files under the data folder (default) or S3-compatible storage.
import { join } from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { parseS3Url } from './s3-client.ts';

/** `undefined`/`files` → `<dataDir>/blobs`; `s3://...` → S3 with `<dataDir>/blob-cache` as its local cache. */
export function openBlobStore(uri: string | undefined, dataDir: string): BlobStore {
  if (!uri || uri === 'files') return new FileBlobStore(join(dataDir, 'blobs'));
  if (uri.startsWith('s3://')) return new S3BlobStore(parseS3Url(uri), join(dataDir, 'blob-cache'));
  throw new Error(`unsupported blob store '${uri}': use files (default) or s3://BUCKET/PREFIX?endpoint=URL&region=R`);
}
