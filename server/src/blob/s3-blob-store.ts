// Blobs in S3-compatible storage, with a local write-through cache (a FileBlobStore). S3 is the
// source of truth that several server processes share; each process keeps the blobs it has used on
// local disk, because training workers, the quantizer and chunk serving read files, and a blob never
// changes once written (content-addressed), so a cached copy is never stale.
import { PassThrough, type Readable } from 'node:stream';
import type { BlobInfo, BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { S3Client, type S3Location } from './s3-client.ts';

const DIGEST = /^[0-9a-f]{64}$/;

export class S3BlobStore implements BlobStore {
  private readonly cache: FileBlobStore;
  private readonly s3: S3Client;
  /** Fills in flight, so concurrent readers of one missing blob download it once. */
  private readonly filling = new Map<string, Promise<BlobInfo | null>>();

  constructor(loc: S3Location, cacheDir: string) {
    this.cache = new FileBlobStore(cacheDir);
    this.s3 = new S3Client(loc);
  }

  async put(data: Uint8Array): Promise<BlobInfo> {
    const info = await this.cache.put(data);
    await this.upload(info.digest, data);
    return info;
  }

  async putFile(tempPath: string): Promise<BlobInfo> {
    const info = await this.cache.putFile(tempPath);
    await this.upload(info.digest, (await this.cache.get(info.digest))!);
    return info;
  }

  async get(digest: string): Promise<Uint8Array | null> {
    return (await this.fill(digest)) ? this.cache.get(digest) : null;
  }

  /** Served from the cache; a blob not cached yet is downloaded first (an absent one ends the stream with an error). */
  stream(digest: string, range?: { start: number; end: number }): Readable | null {
    if (!DIGEST.test(digest)) return null;
    const out = new PassThrough();
    this.fill(digest).then(
      (info) => {
        if (!info) return out.destroy(Object.assign(new Error(`blob ${digest} is not in the blob store`), { code: 'ENOENT' }));
        const src = this.cache.stream(digest, range)!;
        src.on('error', (e) => out.destroy(e));
        src.pipe(out);
      },
      (e) => out.destroy(e as Error),
    );
    return out;
  }

  stat(digest: string): Promise<BlobInfo | null> {
    return this.fill(digest);
  }

  async has(digest: string): Promise<boolean> {
    return (await this.fill(digest)) !== null;
  }

  /** The cached file's path; it exists once `has`, `stat` or `get` has returned the blob. */
  localPath(digest: string): string | null {
    return this.cache.localPath(digest);
  }

  tempPath(hint?: string): string {
    return this.cache.tempPath(hint);
  }

  private async upload(digest: string, data: Uint8Array): Promise<void> {
    // Content-addressed: an object already there has these exact bytes.
    if ((await this.s3.head(digest)) === data.byteLength) return;
    await this.s3.put(digest, data);
  }

  /** The blob's info once it is in the local cache (downloading it from S3 if needed), or null when S3 lacks it too. */
  private fill(digest: string): Promise<BlobInfo | null> {
    if (!DIGEST.test(digest)) return Promise.resolve(null);
    let p = this.filling.get(digest);
    if (!p) {
      p = (async () => {
        const local = await this.cache.stat(digest);
        if (local) return local;
        const res = await this.s3.get(digest);
        if (!res) return null;
        // Written through the cache's own put, which checks the digest: a corrupted download is refused, not cached.
        const bytes = new Uint8Array(await res.arrayBuffer());
        const info = await this.cache.put(bytes);
        if (info.digest !== digest) throw new Error(`S3 object ${digest} has different content (sha256 ${info.digest})`);
        return info;
      })().finally(() => this.filling.delete(digest));
      this.filling.set(digest, p);
    }
    return p;
  }
}
