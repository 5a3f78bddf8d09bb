// Content-addressed blob files: write to a temporary file, fsync, rename. Readers never see a
// partial blob, and a crash leaves at most a stray temporary file (swept on open).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore } from './blob-store.ts';

const DIGEST = /^[0-9a-f]{64}$/;

export class FileBlobStore implements BlobStore {
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true });
    for (const f of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, f), { force: true });
  }

  localPath(digest: string): string | null {
    if (!DIGEST.test(digest)) return null;
    return join(this.root, digest.slice(0, 2), digest);
  }

  tempPath(hint = 'blob'): string {
    return join(this.tmpDir, `${hint.replace(/[^a-z0-9-]/gi, '')}-${randomBytes(8).toString('hex')}`);
  }

  async put(data: Uint8Array): Promise<BlobInfo> {
    const digest = createHash('sha256').update(data).digest('hex');
    const final = this.localPath(digest)!;
    if (await exists(final)) return { digest, bytes: data.byteLength };
    const tmp = this.tempPath();
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.install(tmp, final);
    return { digest, bytes: data.byteLength };
  }

  async putFile(tempPath: string): Promise<BlobInfo> {
    // One reused buffer: a stream would allocate a fresh chunk per read and leave the whole blob as garbage.
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    let bytes = 0;
    const reader = await open(tempPath, 'r');
    try {
      for (let n; (n = (await reader.read(buf, 0, buf.length, null)).bytesRead) > 0; bytes += n) hash.update(buf.subarray(0, n));
    } finally {
      await reader.close();
    }
    const digest = hash.digest('hex');
    const final = this.localPath(digest)!;
    if (await exists(final)) {
      await rm(tempPath, { force: true });
      return { digest, bytes };
    }
    const fh = await open(tempPath, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.install(tempPath, final);
    return { digest, bytes };
  }

  async get(digest: string): Promise<Uint8Array | null> {
    const p = this.localPath(digest);
    if (!p) return null;
    try {
      return new Uint8Array(await readFile(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  stream(digest: string, range?: { start: number; end: number }): Readable | null {
    const p = this.localPath(digest);
    if (!p) return null;
    return createReadStream(p, range ? { start: range.start, end: range.end } : {});
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    const p = this.localPath(digest);
    if (!p) return null;
    try {
      const s = await stat(p);
      return { digest, bytes: s.size };
    } catch {
      return null;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== null;
  }

  private async install(tmp: string, final: string): Promise<void> {
    mkdirSync(join(final, '..'), { recursive: true });
    await rename(tmp, final);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
