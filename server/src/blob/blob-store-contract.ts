// The BlobStore contract: every implementation (files, S3 with a local cache) runs these cases.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

/** `open` returns a fresh, empty store for every case. */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const bytes = new Uint8Array(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));

    it('addresses content by sha256; writing the same bytes twice is a no-op', async () => {
      const s = await open();
      const a = await s.put(bytes);
      expect(a).toEqual({ digest: sha(bytes), bytes: bytes.length });
      expect(await s.put(bytes)).toEqual(a);
      expect(await s.stat(a.digest)).toEqual(a);
      expect(await s.has(a.digest)).toBe(true);
      expect(Buffer.from((await s.get(a.digest))!).equals(Buffer.from(bytes))).toBe(true);
    });

    it('serves byte ranges, inclusive at both ends', async () => {
      const s = await open();
      const { digest } = await s.put(bytes);
      const part = await readAll(s.stream(digest, { start: 65_530, end: 65_545 })!);
      expect(part.equals(Buffer.from(bytes.subarray(65_530, 65_546)))).toBe(true);
      expect((await readAll(s.stream(digest)!)).length).toBe(bytes.length);
    });

    it('moves a finished temporary file in, hashing it', async () => {
      const s = await open();
      const tmp = s.tempPath('upload');
      writeFileSync(tmp, Buffer.from('hello blobs'));
      const info = await s.putFile(tmp);
      expect(info.digest).toBe(sha(Buffer.from('hello blobs')));
      expect(Buffer.from((await s.get(info.digest))!).toString()).toBe('hello blobs');
    });

    it('answers absent and malformed digests with null, never a throw', async () => {
      const s = await open();
      const absent = 'f'.repeat(64);
      expect(await s.get(absent)).toBeNull();
      expect(await s.stat(absent)).toBeNull();
      expect(await s.has(absent)).toBe(false);
      expect(await s.get('../../etc/passwd')).toBeNull();
      expect(s.stream('not-a-digest')).toBeNull();
      expect(s.localPath('../x')).toBeNull();
    });
  });
}
