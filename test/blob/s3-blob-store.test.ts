// Blobs in S3-compatible storage (s3rver speaking the S3 REST API with signed requests): the shared
// contract, plus what only a shared, remote store can show.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStoreContract, readAll } from '../../server/src/blob/blob-store-contract.ts';
import { parseS3Url } from '../../server/src/blob/s3-client.ts';
import { S3BlobStore } from '../../server/src/blob/s3-blob-store.ts';
import { startS3, type TestS3 } from '../support/s3-server.ts';

let s3: TestS3;
const caches = mkdtempSync(join(tmpdir(), 'flotilla-s3-cache-'));
let n = 0;
const open = (prefix: string, env: NodeJS.ProcessEnv = s3.env) => new S3BlobStore(parseS3Url(s3.url(prefix), env), join(caches, `c${n++}`));

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
  rmSync(caches, { recursive: true, force: true });
});

blobStoreContract('s3 with a local cache', async () => open(`contract${n}/`));

/** Every file s3rver holds under the bucket (its on-disk layout is its own; we only search it). */
function objectFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('S3BlobStore', () => {
  it('shares blobs between processes: a second store with an empty cache reads what the first wrote', async () => {
    const a = open('shared/');
    const b = open('shared/');
    const data = new Uint8Array(300_000).map((_, i) => i % 253);
    const { digest } = await a.put(data);
    expect(
      b.localPath(digest) &&
        (() => {
          try {
            return statSync(b.localPath(digest)!).size;
          } catch {
            return null;
          }
        })(),
    ).toBeNull();
    expect(await b.stat(digest)).toEqual({ digest, bytes: data.length });
    // Now cached: the synchronous file path the training workers and quantizer read exists.
    expect(statSync(b.localPath(digest)!).size).toBe(data.length);
    const range = await readAll(b.stream(digest, { start: 299_990, end: 299_999 })!);
    expect([...range]).toEqual([...data.subarray(299_990)]);
  });

  it('streams a blob that is not cached yet (chunk serving on a fresh process)', async () => {
    const a = open('lazy/');
    const { digest } = await a.put(new TextEncoder().encode('chunk me'));
    const fresh = open('lazy/');
    expect((await readAll(fresh.stream(digest, { start: 6, end: 7 })!)).toString()).toBe('me');
    await expect(readAll(fresh.stream('e'.repeat(64))!)).rejects.toThrow(/not in the blob store/);
  });

  it('refuses an object whose content no longer matches its digest, and caches nothing', async () => {
    const a = open('tamper/');
    const { digest } = await a.put(new TextEncoder().encode('original bytes'));
    const file = objectFiles(s3.directory).find((f) => f.includes('tamper') && f.includes(digest) && f.endsWith('._S3rver_object'));
    expect(file, 'the object file in s3rver').toBeTruthy();
    writeFileSync(file!, 'tampered bytes');
    const fresh = open('tamper/');
    await expect(fresh.get(digest)).rejects.toThrow(/different content/);
    expect(() => statSync(fresh.localPath(digest)!)).toThrow();
  });

  it('says which credentials are wrong or missing', async () => {
    // s3rver checks the access key id but not SigV4 signatures (AWS and MinIO do; signing is the aws4 package's).
    const bad = open('creds/', { AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: 'wrong' });
    await expect(bad.put(new Uint8Array([1, 2, 3]))).rejects.toThrow(/S3 (HEAD|PUT) flotilla-test\/creds\/.* failed: 403/);
    expect(() => parseS3Url(s3.url('x/'), {})).toThrow(/AWS_ACCESS_KEY_ID/);
    expect(() => parseS3Url('http://bucket/x', s3.env)).toThrow(/s3:\/\/BUCKET/);
  });
});
