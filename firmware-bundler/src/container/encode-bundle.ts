// Writing the bundle container: header, manifest, signatures, chunk table, chunk data (SPEC §2).
import { BundleError } from '../errors.ts';
import { fromHex, isDigestHex } from '../bytes.ts';
import type { BundleSignature } from '../keys/manifest-signature.ts';
import { CHUNK_ENTRY_BYTES, CONTAINER_FORMAT_VERSION, HEADER_BYTES, KEY_ID_BYTES, MAGIC, OFFSET, SIGNATURE_ENTRY_BYTES } from './layout.ts';

/** A chunk as the container stores it: SHA-256 hex digest and its bytes. */
export interface ContainerChunk {
  readonly digest: string;
  readonly bytes: Uint8Array;
}

/** What a container holds. The caller orders `chunks` (SPEC §2.4: unique, in manifest first-use order). */
export interface BundleParts {
  readonly manifestBytes: Uint8Array;
  readonly signatures: readonly BundleSignature[];
  readonly chunks: readonly ContainerChunk[];
}

/**
 * Frames `parts` as container bytes. Does no manifest checks (so tests can frame hostile
 * manifests); `packBundle` is the safe way to make a bundle. Pass no chunks for a head-only
 * envelope (a signed manifest on its own, SPEC §2.6).
 */
export function encodeBundle(parts: BundleParts): Uint8Array {
  const { manifestBytes, signatures, chunks } = parts;
  const payload = chunks.reduce((n, c) => n + c.bytes.length, 0);
  const total =
    HEADER_BYTES + manifestBytes.length + signatures.length * SIGNATURE_ENTRY_BYTES + chunks.length * CHUNK_ENTRY_BYTES + payload;
  if (signatures.length > 0xffff || manifestBytes.length > 0xffffffff || chunks.length > 0xffffffff) {
    throw new BundleError('BUNDLE_TOO_LARGE', 'bundle parts exceed the container field widths', 'SPEC §2.1');
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, OFFSET.magic);
  view.setUint16(OFFSET.version, CONTAINER_FORMAT_VERSION, true);
  view.setUint16(OFFSET.signatureCount, signatures.length, true);
  view.setUint32(OFFSET.manifestLength, manifestBytes.length, true);
  view.setUint32(OFFSET.chunkCount, chunks.length, true);
  view.setUint32(OFFSET.flags, 0, true);
  view.setBigUint64(OFFSET.payloadLength, BigInt(payload), true);
  let at = HEADER_BYTES;
  out.set(manifestBytes, at);
  at += manifestBytes.length;
  for (const s of signatures) {
    if (!/^[0-9a-f]{16}$/.test(s.keyId) || s.signature.length !== 64) {
      throw new BundleError('BUNDLE_INPUT_INVALID', `signature entry for key ${s.keyId} is not 8-byte id + 64-byte signature`, 'SPEC §2.3');
    }
    out.set(fromHex(s.keyId), at);
    out.set(s.signature, at + KEY_ID_BYTES);
    at += SIGNATURE_ENTRY_BYTES;
  }
  for (const c of chunks) {
    if (!isDigestHex(c.digest))
      throw new BundleError('BUNDLE_INPUT_INVALID', `chunk digest ${c.digest} is not 64 hex characters`, 'SPEC §2.4');
    out.set(fromHex(c.digest), at);
    view.setUint32(at + 32, c.bytes.length, true);
    at += CHUNK_ENTRY_BYTES;
  }
  for (const c of chunks) {
    out.set(c.bytes, at);
    at += c.bytes.length;
  }
  return out;
}
