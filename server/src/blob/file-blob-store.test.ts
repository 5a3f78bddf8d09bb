// The file store against the shared BlobStore contract.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { blobStoreContract } from './blob-store-contract.ts';
import { FileBlobStore } from './file-blob-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-blobs-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

blobStoreContract('files', async () => new FileBlobStore(join(dir, `s${n++}`)));
