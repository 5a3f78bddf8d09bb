// Container framing: layout, exact length, head-only reads, limits checked from the header alone (SPEC §2, §8.1).
import { describe, expect, it } from 'vitest';
import { encodeBundle } from './encode-bundle.ts';
import { parseBundle, readBundleHeader, readBundleManifest } from './decode-bundle.ts';
import { HEADER_BYTES, OFFSET } from './layout.ts';
import { makeTestBundle } from '../testing/bundle-fixtures.ts';
import { DEFAULT_LIMITS, withLimits } from '../limits.ts';
import { bytesEqual, utf8 } from '../bytes.ts';
import type { BundleErrorCode } from '../errors.ts';

const packed = await makeTestBundle();

function codeOf(fn: () => unknown): BundleErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code: BundleErrorCode }).code;
  }
}

function withField(offset: number, write: (v: DataView) => void): Uint8Array {
  const copy = packed.bytes.slice();
  write(new DataView(copy.buffer, offset));
  return copy;
}

describe('container layout [SPEC §2.1]', () => {
  it('starts with FLOTBNDL, version 1, and little-endian section sizes', () => {
    const b = packed.bytes;
    expect(new TextDecoder().decode(b.subarray(0, 8))).toBe('FLOTBNDL');
    const v = new DataView(b.buffer, b.byteOffset);
    expect(v.getUint16(OFFSET.version, true)).toBe(1);
    expect(v.getUint16(OFFSET.signatureCount, true)).toBe(1);
    expect(v.getUint32(OFFSET.manifestLength, true)).toBe(packed.manifestBytes.length);
    expect(v.getUint32(OFFSET.chunkCount, true)).toBe(packed.chunks.length);
    expect(v.getUint32(OFFSET.flags, true)).toBe(0);
    expect(Number(v.getBigUint64(OFFSET.payloadLength, true))).toBe(packed.chunks.reduce((n, c) => n + c.bytes.length, 0));
    expect(bytesEqual(b.subarray(HEADER_BYTES, HEADER_BYTES + packed.manifestBytes.length), packed.manifestBytes)).toBe(true);
  });

  it('parses back exactly what was encoded', () => {
    const parsed = parseBundle(packed.bytes);
    expect(bytesEqual(parsed.manifestBytes, packed.manifestBytes)).toBe(true);
    expect(parsed.signatures.map((s) => s.keyId)).toEqual(packed.signatures.map((s) => s.keyId));
    expect(parsed.chunks.map((c) => c.digest)).toEqual(packed.chunks.map((c) => c.digest));
    parsed.chunks.forEach((c, i) => expect(bytesEqual(c.bytes, packed.chunks[i]!.bytes)).toBe(true));
  });
});

describe('head-only reads [SPEC §2.6]', () => {
  it('reads the signed manifest from any prefix covering the head', () => {
    const { headLength } = readBundleHeader(packed.bytes);
    const head = readBundleManifest(packed.bytes.subarray(0, headLength));
    expect(bytesEqual(head.manifestBytes, packed.manifestBytes)).toBe(true);
    expect(codeOf(() => readBundleManifest(packed.bytes.subarray(0, headLength - 1)))).toBe('BUNDLE_MALFORMED');
  });

  it('encodes a head-only envelope when given no chunks', () => {
    const env = encodeBundle({ manifestBytes: packed.manifestBytes, signatures: packed.signatures, chunks: [] });
    expect(readBundleHeader(env).headLength).toBe(env.length);
    expect(bytesEqual(readBundleManifest(env).manifestBytes, packed.manifestBytes)).toBe(true);
  });
});

describe('framing faults [SPEC §2.1-§2.5]', () => {
  it.each<[string, () => Uint8Array, BundleErrorCode]>([
    ['shorter than a header', () => packed.bytes.subarray(0, 31), 'BUNDLE_MALFORMED'],
    ['bad magic', () => withField(0, (v) => v.setUint8(0, 0x47)), 'BUNDLE_MALFORMED'],
    ['version 2', () => withField(OFFSET.version, (v) => v.setUint16(0, 2, true)), 'BUNDLE_VERSION_UNSUPPORTED'],
    ['non-zero flags', () => withField(OFFSET.flags, (v) => v.setUint32(0, 1, true)), 'BUNDLE_MALFORMED'],
    ['no signatures', () => withField(OFFSET.signatureCount, (v) => v.setUint16(0, 0, true)), 'BUNDLE_MALFORMED'],
    ['empty manifest', () => withField(OFFSET.manifestLength, (v) => v.setUint32(0, 0, true)), 'BUNDLE_MALFORMED'],
    ['one byte missing', () => packed.bytes.subarray(0, packed.bytes.length - 1), 'BUNDLE_MALFORMED'],
    ['one byte extra', () => Uint8Array.of(...packed.bytes, 0), 'BUNDLE_MALFORMED'],
    ['9 signatures declared', () => withField(OFFSET.signatureCount, (v) => v.setUint16(0, 9, true)), 'BUNDLE_TOO_LARGE'],
    ['4 GiB manifest declared', () => withField(OFFSET.manifestLength, (v) => v.setUint32(0, 0xffffffff, true)), 'BUNDLE_TOO_LARGE'],
    ['2^32-1 chunks declared', () => withField(OFFSET.chunkCount, (v) => v.setUint32(0, 0xffffffff, true)), 'BUNDLE_TOO_LARGE'],
    [
      '2^64-1 payload bytes declared',
      () => withField(OFFSET.payloadLength, (v) => v.setBigUint64(0, 2n ** 64n - 1n, true)),
      'BUNDLE_TOO_LARGE',
    ],
  ])('%s → %s', (_name, make, code) => {
    expect(codeOf(() => parseBundle(make()))).toBe(code);
  });

  it('checks chunk table entries: zero length, over-limit length, duplicate digest, sum', () => {
    const chunks = packed.chunks;
    const frame = (cs: typeof chunks) => encodeBundle({ manifestBytes: packed.manifestBytes, signatures: packed.signatures, chunks: cs });
    expect(codeOf(() => parseBundle(frame([chunks[0]!, chunks[0]!])))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => parseBundle(frame([{ digest: chunks[0]!.digest, bytes: new Uint8Array(0) }])))).toBe('BUNDLE_MALFORMED');
    expect(codeOf(() => parseBundle(frame(chunks), withLimits({ maxChunkBytes: 10 })))).toBe('BUNDLE_TOO_LARGE');
    const tableAt = readBundleHeader(packed.bytes).headLength;
    const lengthBumped = packed.bytes.slice();
    new DataView(lengthBumped.buffer).setUint32(tableAt + 32, chunks[0]!.bytes.length + 1, true);
    expect(codeOf(() => parseBundle(lengthBumped))).toBe('BUNDLE_MALFORMED');
  });

  it('refuses two signatures by one key id', () => {
    const twice = encodeBundle({
      manifestBytes: packed.manifestBytes,
      signatures: [packed.signatures[0]!, packed.signatures[0]!],
      chunks: packed.chunks,
    });
    expect(codeOf(() => parseBundle(twice))).toBe('BUNDLE_MALFORMED');
  });

  it('refuses to encode malformed signature entries and digests', () => {
    expect(
      codeOf(() => encodeBundle({ manifestBytes: utf8('{}'), signatures: [{ keyId: 'xyz', signature: new Uint8Array(64) }], chunks: [] })),
    ).toBe('BUNDLE_INPUT_INVALID');
    expect(
      codeOf(() =>
        encodeBundle({ manifestBytes: utf8('{}'), signatures: packed.signatures, chunks: [{ digest: 'ab', bytes: new Uint8Array(1) }] }),
      ),
    ).toBe('BUNDLE_INPUT_INVALID');
  });

  it('uses the default limits unless told otherwise', () => {
    expect(DEFAULT_LIMITS.maxSignatures).toBe(8);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });
});
