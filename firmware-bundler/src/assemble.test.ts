// Assembling files from individually fetched chunks: every chunk and the whole file are checked (SPEC §4.9, §10).
import { describe, expect, it } from 'vitest';
import { assembleFile, assembleFileAsync, verifyChunk } from './assemble.ts';
import { makeTestBundle } from './testing/bundle-fixtures.ts';
import { bytesEqual } from './bytes.ts';
import { withLimits } from './limits.ts';

const packed = await makeTestBundle();
const store = new Map(packed.chunks.map((c) => [c.digest, c.bytes]));
const file = packed.manifest.files[0]!;
const original = new Uint8Array(file.size);
for (const c of file.chunks) original.set(store.get(c.digest)!, c.offset);

describe('assembleFile', () => {
  it('rebuilds the file from its chunks, sync and async', async () => {
    expect(
      bytesEqual(
        assembleFile(file, (d) => store.get(d)),
        original,
      ),
    ).toBe(true);
    expect(bytesEqual(await assembleFileAsync(file, async (d) => store.get(d)), original)).toBe(true);
  });

  it('reports a chunk it cannot get as BUNDLE_CHUNK_MISSING', () => {
    const missing = file.chunks[1]!.digest;
    expect(() => assembleFile(file, (d) => (d === missing ? undefined : store.get(d)))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_CHUNK_MISSING' }),
    );
  });

  it('reports altered or swapped chunk bytes as BUNDLE_CHUNK_CORRUPT', async () => {
    const target = file.chunks[0]!.digest;
    const flipped = (d: string) => (d === target ? store.get(d)!.map((b, i) => (i === 0 ? b ^ 0x80 : b)) : store.get(d));
    expect(() => assembleFile(file, flipped)).toThrow(expect.objectContaining({ code: 'BUNDLE_CHUNK_CORRUPT' }));
    const other = store.get(file.chunks[1]!.digest)!;
    await expect(assembleFileAsync(file, (d) => (d === target ? other : store.get(d)))).rejects.toMatchObject({
      code: 'BUNDLE_CHUNK_CORRUPT',
    });
  });

  it('reports a file whose chunks verify but whose digest does not as BUNDLE_FILE_CORRUPT', () => {
    expect(() => assembleFile({ ...file, sha256: 'f'.repeat(64) }, (d) => store.get(d))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_FILE_CORRUPT' }),
    );
    const gap = { ...file, chunks: file.chunks.map((c, i) => (i === 1 ? { ...c, offset: c.offset + 1 } : c)) };
    expect(() => assembleFile(gap, (d) => store.get(d))).toThrow(expect.objectContaining({ code: 'BUNDLE_FILE_CORRUPT' }));
  });

  it('refuses a declared size over the limit before allocating (BUNDLE_TOO_LARGE)', () => {
    let asked = 0;
    const huge = { ...file, size: 2 ** 52 };
    expect(() => assembleFile(huge, () => (asked++, undefined))).toThrow(expect.objectContaining({ code: 'BUNDLE_TOO_LARGE' }));
    expect(() => assembleFile(file, (d) => store.get(d), { limits: withLimits({ maxFileBytes: 10 }) })).toThrow(
      expect.objectContaining({ code: 'BUNDLE_TOO_LARGE' }),
    );
    expect(asked).toBe(0);
  });

  it('verifyChunk checks length then digest', () => {
    const ref = file.chunks[0]!;
    const bytes = store.get(ref.digest)!;
    expect(() => verifyChunk(ref, bytes)).not.toThrow();
    expect(() => verifyChunk(ref, bytes.subarray(1))).toThrow(expect.objectContaining({ code: 'BUNDLE_CHUNK_CORRUPT' }));
  });
});
