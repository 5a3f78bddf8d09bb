// Property tests: thousands of byte-level mutations of a bundle, each refused with the one code SPEC §2/§10.3 predicts.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../limits.ts';
import { encodeBundle } from '../container/encode-bundle.ts';
import { makeTestBundle } from '../testing/bundle-fixtures.ts';
import { openBundle } from '../verify/open-bundle.ts';
import type { BundleErrorCode } from '../errors.ts';
import { counter, DEVICE, expectRejected, TRUSTED } from './fuzz-support.ts';

const base = await makeTestBundle();
const bytes = base.bytes;
const M = base.manifestBytes.length;

// Region map derived from the SPEC §2.1 layout, independently of the decoder.
const manifestEnd = 32 + M;
const sigEnd = manifestEnd + 72 * base.signatures.length;
const tableEnd = sigEnd + 36 * base.chunks.length;

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => u16(b, at) + u16(b, at + 2) * 65536;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;
const sizeCode = (value: number, limit: number): BundleErrorCode => (value > limit ? 'BUNDLE_TOO_LARGE' : 'BUNDLE_MALFORMED');

/** The code SPEC §2.1 and §10.3 assign to a bundle differing from the valid base only at byte `pos`. */
function oracle(mutated: Uint8Array, pos: number): BundleErrorCode {
  const L = DEFAULT_LIMITS;
  if (pos < 8) return 'BUNDLE_MALFORMED';
  if (pos < 10) return 'BUNDLE_VERSION_UNSUPPORTED';
  if (pos < 12) return u16(mutated, 10) === 0 ? 'BUNDLE_MALFORMED' : sizeCode(u16(mutated, 10), L.maxSignatures);
  if (pos < 16) return u32(mutated, 12) === 0 ? 'BUNDLE_MALFORMED' : sizeCode(u32(mutated, 12), L.maxManifestBytes);
  if (pos < 20) return sizeCode(u32(mutated, 16), L.maxChunks);
  if (pos < 24) return 'BUNDLE_MALFORMED';
  if (pos < 32) return sizeCode(u64(mutated, 24), L.maxTotalBytes);
  if (pos < manifestEnd) return 'BUNDLE_SIGNATURE_INVALID';
  if (pos < sigEnd) return (pos - manifestEnd) % 72 < 8 ? 'BUNDLE_KEY_UNTRUSTED' : 'BUNDLE_SIGNATURE_INVALID';
  if (pos < tableEnd) {
    const entry = sigEnd + Math.floor((pos - sigEnd) / 36) * 36;
    if (pos - entry < 32) return 'BUNDLE_MALFORMED';
    const length = u32(mutated, entry + 32);
    return length === 0 ? 'BUNDLE_MALFORMED' : sizeCode(length, L.maxChunkBytes);
  }
  return 'BUNDLE_CHUNK_CORRUPT';
}

describe('byte-level mutations of a bundle [SPEC §2, §10.3]', () => {
  it('the unmutated base bundle is accepted', () => {
    expect(openBundle(bytes, TRUSTED, DEVICE).manifest.model.sequence).toBe(5);
  });

  it('every single bit flip is refused with the code of the region it hits', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.nat(7), (pos, bit) => {
        const m = bytes.slice();
        m[pos]! ^= 1 << bit;
        expectRejected(m, oracle(m, pos), `(bit ${bit} of byte ${pos})`);
      }),
      { numRuns: 2500 },
    );
  });

  it('every byte overwritten with another value is refused with the code of its region', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const m = bytes.slice();
        m[pos]! ^= x;
        expectRejected(m, oracle(m, pos), `(byte ${pos} ^ ${x})`);
      }),
      { numRuns: 1200 },
    );
  });

  it('every truncation is BUNDLE_MALFORMED', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (length) =>
        expectRejected(bytes.subarray(0, length), 'BUNDLE_MALFORMED', `(truncated to ${length})`),
      ),
      { numRuns: 1500 },
    );
  });

  it('every extension with trailing bytes is BUNDLE_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (tail) => {
        const m = new Uint8Array(bytes.length + tail.length);
        m.set(bytes);
        m.set(tail, bytes.length);
        expectRejected(m, 'BUNDLE_MALFORMED');
      }),
      { numRuns: 500 },
    );
  });

  it('reordered, duplicated, dropped or substituted chunks are refused with their codes', () => {
    const n = base.chunks.length;
    fc.assert(
      fc.property(fc.constantFrom('swap', 'duplicate', 'drop', 'substitute'), fc.nat(n - 1), fc.nat(n - 1), (op, i, j) => {
        const chunks = [...base.chunks];
        let code: BundleErrorCode = 'BUNDLE_MALFORMED';
        if (op === 'swap') {
          if (i === j) j = (i + 1) % n;
          [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
        } else if (op === 'duplicate') {
          chunks.splice(j, 0, chunks[i]!);
        } else if (op === 'drop') {
          chunks.splice(i, 1);
        } else {
          if (i === j) j = (i + 1) % n;
          const other = base.chunks[j]!.bytes;
          chunks[i] = { digest: chunks[i]!.digest, bytes: other };
          // Same length: the table still matches the manifest, so the hash check catches it.
          code = other.length === base.chunks[i]!.bytes.length ? 'BUNDLE_CHUNK_CORRUPT' : 'BUNDLE_MALFORMED';
        }
        expectRejected(encodeBundle({ manifestBytes: base.manifestBytes, signatures: base.signatures, chunks }), code, `(${op} ${i} ${j})`);
      }),
      { numRuns: 600 },
    );
  });

  it('oversized declared sizes in the header are BUNDLE_TOO_LARGE before anything is read', () => {
    const L = DEFAULT_LIMITS;
    const fields = [
      { at: 10, width: 2, limit: L.maxSignatures },
      { at: 12, width: 4, limit: L.maxManifestBytes },
      { at: 16, width: 4, limit: L.maxChunks },
      { at: 24, width: 8, limit: L.maxTotalBytes },
    ];
    fc.assert(
      fc.property(fc.nat(fields.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (k, r) => {
        const f = fields[k]!;
        const max = 2n ** BigInt(8 * f.width) - 1n;
        const span = max - BigInt(f.limit) - 1n;
        // Exact integer arithmetic: a float near 2^64 would round up and wrap to 0 in setBigUint64.
        const value = BigInt(f.limit) + 1n + (span * BigInt(Math.floor(r * 2 ** 32))) / 2n ** 32n;
        const m = bytes.slice();
        const v = new DataView(m.buffer);
        if (f.width === 2) v.setUint16(f.at, Number(value), true);
        else if (f.width === 4) v.setUint32(f.at, Number(value), true);
        else v.setBigUint64(f.at, value, true);
        expectRejected(m, 'BUNDLE_TOO_LARGE', `(field at ${f.at} = ${value})`);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes are BUNDLE_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => expectRejected(junk, 'BUNDLE_MALFORMED')),
      { numRuns: 1000 },
    );
  });

  afterAll(() => {
    // With manifest-mutations.test.ts (≥ 3,000) this makes more than 10,000 mutated bundles.
    expect(counter.checked).toBeGreaterThanOrEqual(8300);
    console.log(`container mutations checked: ${counter.checked}`);
  });
});
