// FastCDC chunking: pinned gear table and cut points (cross-platform determinism), bounds, resynchronization (SPEC §5).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunkBoundaries, chunkFile, chunkingParams } from './fastcdc.ts';
import { GEAR } from './gear-table.ts';
import { concatBytes, sha256Hex, utf8 } from '../bytes.ts';
import { pseudoRandomBytes } from '../testing/bundle-fixtures.ts';
import { BundleError } from '../errors.ts';

describe('gear table [SPEC §5.2]', () => {
  it('is the pinned mulberry32("FLOT") stream, so every platform cuts at the same places', () => {
    const le = new Uint8Array(1024);
    const view = new DataView(le.buffer);
    GEAR.forEach((g, i) => view.setUint32(i * 4, g, true));
    expect(GEAR[0]).toBe(0xf47b5d7c);
    expect(GEAR[255]).toBe(0x0ad06128);
    expect(sha256Hex(le)).toBe('682eea507bfe94defc829cd4c41a530dfac8fbae764186665ea7e0d4fca52852');
  });
});

describe('chunkBoundaries [SPEC §5.3]', () => {
  const data = pseudoRandomBytes(1 << 20, 42);

  it('cuts a pinned 1 MiB input at pinned offsets (default 16 KiB and 1 KiB averages)', () => {
    const cuts = chunkBoundaries(data, chunkingParams());
    expect(cuts.slice(0, 5)).toEqual([17495, 23188, 48086, 66184, 88363]);
    expect(cuts.length).toBe(56);
    expect(sha256Hex(utf8(cuts.join(',')))).toBe('15902961a5fd247e135e7ce8304e99e61c05efbdd9a66f28007c1d20fa2efda7');
    expect(sha256Hex(utf8(chunkBoundaries(data, chunkingParams({ avgSize: 1024 })).join(',')))).toBe(
      '0cedfad47eaeadb70fe8904ceca30b87b4f672988f8520e06d9f63643751f6b7',
    );
  });

  it('keeps every chunk within [minSize, maxSize] (the last may be shorter) and covers the input', () => {
    for (const avgSize of [256, 1024, 16384]) {
      const p = chunkingParams({ avgSize });
      const cuts = chunkBoundaries(data, p);
      expect(cuts[cuts.length - 1]).toBe(data.length);
      let prev = 0;
      cuts.forEach((c, i) => {
        const len = c - prev;
        expect(len).toBeLessThanOrEqual(p.maxSize);
        if (i < cuts.length - 1) expect(len).toBeGreaterThanOrEqual(p.minSize);
        prev = c;
      });
      // Normalized chunking keeps the mean near the target average.
      const mean = data.length / cuts.length;
      expect(mean).toBeGreaterThan(avgSize * 0.75);
      expect(mean).toBeLessThan(avgSize * 1.5);
    }
  });

  it('cuts runs of identical bytes at maxSize (no content to anchor on)', () => {
    const p = chunkingParams({ avgSize: 256 });
    expect(chunkBoundaries(new Uint8Array(3000), p)).toEqual([1024, 2048, 3000]);
  });
});

describe('chunkFile [SPEC §5.4]', () => {
  it('returns no chunk for an empty file and one chunk for a file below minSize', () => {
    expect(chunkFile(new Uint8Array(0))).toEqual([]);
    const small = pseudoRandomBytes(100, 3);
    expect(chunkFile(small)).toEqual([{ digest: sha256Hex(small), offset: 0, length: 100 }]);
  });

  it('gives each chunk the sha256 of its bytes, tiling the file in order', () => {
    const data = pseudoRandomBytes(20_000, 5);
    let offset = 0;
    for (const c of chunkFile(data, { avgSize: 1024 })) {
      expect(c.offset).toBe(offset);
      expect(c.digest).toBe(sha256Hex(data.subarray(c.offset, c.offset + c.length)));
      offset += c.length;
    }
    expect(offset).toBe(data.length);
  });

  it('re-synchronizes after a local edit: only chunks near the edit are new', () => {
    const base = pseudoRandomBytes(64 * 1024, 11);
    const p = chunkingParams({ avgSize: 256 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 64 }),
        (at, removed, inserted) => {
          const edited = concatBytes([
            base.subarray(0, at),
            pseudoRandomBytes(inserted, at + 1),
            base.subarray(Math.min(base.length, at + removed)),
          ]);
          const old = new Set(chunkFile(base, { avgSize: 256 }).map((c) => c.digest));
          const fresh = chunkFile(edited, { avgSize: 256 }).filter((c) => !old.has(c.digest));
          const freshBytes = fresh.reduce((n, c) => n + c.length, 0);
          expect(freshBytes).toBeLessThanOrEqual(inserted + 4 * p.maxSize);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([100, 255, 300, 512 * 1024, 1.5, -256])('refuses average size %s with BUNDLE_INPUT_INVALID', (avgSize) => {
    expect(() => chunkingParams({ avgSize })).toThrow(BundleError);
    try {
      chunkingParams({ avgSize });
    } catch (e) {
      expect((e as BundleError).code).toBe('BUNDLE_INPUT_INVALID');
    }
  });

  it('records min = avg/4 and max = 4·avg', () => {
    expect(chunkingParams()).toEqual({ algorithm: 'fastcdc-gear32-nc2', minSize: 4096, avgSize: 16384, maxSize: 65536 });
  });
});
