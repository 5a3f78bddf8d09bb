// Reading the bundle container with every declared size checked before it is used (SPEC §2, §8).
import { BundleError } from '../errors.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { toHex } from '../bytes.ts';
import type { BundleSignature } from '../keys/manifest-signature.ts';
import type { ContainerChunk } from './encode-bundle.ts';
import { CHUNK_ENTRY_BYTES, CONTAINER_FORMAT_VERSION, HEADER_BYTES, KEY_ID_BYTES, MAGIC, OFFSET, SIGNATURE_ENTRY_BYTES } from './layout.ts';

/** The header fields of a container, already checked against limits. */
export interface BundleHeader {
  readonly formatVersion: number;
  readonly signatureCount: number;
  readonly manifestLength: number;
  readonly chunkCount: number;
  readonly payloadLength: number;
  /** Bytes from the start through the signatures: the signed-manifest envelope (SPEC §2.6). */
  readonly headLength: number;
  /** Exact length of the whole container in bytes. */
  readonly totalLength: number;
}

/** The signed manifest at the start of a bundle. Byte arrays are views into the input. */
export interface BundleHead {
  readonly header: BundleHeader;
  readonly manifestBytes: Uint8Array;
  readonly signatures: readonly BundleSignature[];
}

/** A whole container: head plus its chunks (views into the input), in table order. */
export interface ParsedBundle extends BundleHead {
  readonly chunks: readonly ContainerChunk[];
}

const malformed = (message: string, clause: string) => new BundleError('BUNDLE_MALFORMED', message, `SPEC §${clause}`);
const tooLarge = (what: string, value: number, limit: number) =>
  new BundleError('BUNDLE_TOO_LARGE', `container declares ${what} ${value}, limit ${limit}`, 'SPEC §8.1');

/**
 * Reads and checks the 32-byte header (SPEC §2.1, in this order): magic (`BUNDLE_MALFORMED`),
 * version (`BUNDLE_VERSION_UNSUPPORTED`), reserved flags, then each count and length against
 * `limits` (`BUNDLE_TOO_LARGE`). Needs only the first 32 bytes.
 */
export function readBundleHeader(bytes: Uint8Array, limits: BundleLimits = DEFAULT_LIMITS): BundleHeader {
  if (bytes.length < HEADER_BYTES) throw malformed(`container is ${bytes.length} bytes, shorter than its header`, '2.1');
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw malformed('not a Flotilla bundle (bad magic)', '2.1');
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const formatVersion = view.getUint16(OFFSET.version, true);
  if (formatVersion !== CONTAINER_FORMAT_VERSION) {
    throw new BundleError(
      'BUNDLE_VERSION_UNSUPPORTED',
      `container format version ${formatVersion} is not supported (this reader: ${CONTAINER_FORMAT_VERSION})`,
      'SPEC §2.1',
    );
  }
  if (view.getUint32(OFFSET.flags, true) !== 0) throw malformed('reserved header flags are not zero', '2.1');
  const signatureCount = view.getUint16(OFFSET.signatureCount, true);
  if (signatureCount === 0) throw malformed('container holds no signature', '2.3');
  if (signatureCount > limits.maxSignatures) throw tooLarge('signature count', signatureCount, limits.maxSignatures);
  const manifestLength = view.getUint32(OFFSET.manifestLength, true);
  if (manifestLength === 0) throw malformed('manifest is empty', '2.2');
  if (manifestLength > limits.maxManifestBytes) throw tooLarge('manifest length', manifestLength, limits.maxManifestBytes);
  const chunkCount = view.getUint32(OFFSET.chunkCount, true);
  if (chunkCount > limits.maxChunks) throw tooLarge('chunk count', chunkCount, limits.maxChunks);
  // u64 read as two halves: exact below 2^53, and anything near that is far over any limit.
  const payloadLength = view.getUint32(OFFSET.payloadLength + 4, true) * 2 ** 32 + view.getUint32(OFFSET.payloadLength, true);
  if (payloadLength > limits.maxTotalBytes) throw tooLarge('payload length', payloadLength, limits.maxTotalBytes);
  const headLength = HEADER_BYTES + manifestLength + signatureCount * SIGNATURE_ENTRY_BYTES;
  const totalLength = headLength + chunkCount * CHUNK_ENTRY_BYTES + payloadLength;
  return { formatVersion, signatureCount, manifestLength, chunkCount, payloadLength, headLength, totalLength };
}

/**
 * Reads the signed manifest from the start of a bundle. `bytes` may be the whole bundle or any
 * prefix of at least `header.headLength` bytes, so a device can fetch the head first (SPEC §2.6).
 * Does not check the signature: pass the result to `verifyManifest`.
 */
export function readBundleManifest(bytes: Uint8Array, limits: BundleLimits = DEFAULT_LIMITS): BundleHead {
  const header = readBundleHeader(bytes, limits);
  if (bytes.length < header.headLength) throw malformed(`bundle head needs ${header.headLength} bytes, got ${bytes.length}`, '2.6');
  return readHead(bytes, header);
}

/**
 * Parses a whole container (SPEC §2.5): header, exact total length, signatures (distinct key ids),
 * chunk table (non-empty chunks within limits, distinct digests, lengths summing to the payload
 * length). Chunk bytes are not hashed here; `openBundle` does that after the signature.
 */
export function parseBundle(bytes: Uint8Array, limits: BundleLimits = DEFAULT_LIMITS): ParsedBundle {
  const header = readBundleHeader(bytes, limits);
  if (bytes.length !== header.totalLength) {
    throw malformed(`container is ${bytes.length} bytes, header declares ${header.totalLength}`, '2.5');
  }
  const head = readHead(bytes, header);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seen = new Set<string>();
  const entries: { digest: string; length: number }[] = [];
  let sum = 0;
  let at = header.headLength;
  for (let i = 0; i < header.chunkCount; i++, at += CHUNK_ENTRY_BYTES) {
    const digest = toHex(bytes.subarray(at, at + 32));
    const length = view.getUint32(at + 32, true);
    if (length === 0) throw malformed(`chunk ${i} is empty`, '2.4');
    if (length > limits.maxChunkBytes) throw tooLarge('chunk length', length, limits.maxChunkBytes);
    if (seen.has(digest)) throw malformed(`chunk ${digest} appears twice in the chunk table`, '2.4');
    seen.add(digest);
    entries.push({ digest, length });
    sum += length;
  }
  if (sum !== header.payloadLength) throw malformed(`chunk lengths sum to ${sum}, header declares ${header.payloadLength}`, '2.4');
  const chunks = entries.map(({ digest, length }) => {
    const chunk = { digest, bytes: bytes.subarray(at, at + length) };
    at += length;
    return chunk;
  });
  return { ...head, chunks };
}

function readHead(bytes: Uint8Array, header: BundleHeader): BundleHead {
  const manifestBytes = bytes.subarray(HEADER_BYTES, HEADER_BYTES + header.manifestLength);
  const signatures: BundleSignature[] = [];
  let at = HEADER_BYTES + header.manifestLength;
  for (let i = 0; i < header.signatureCount; i++, at += SIGNATURE_ENTRY_BYTES) {
    const keyId = toHex(bytes.subarray(at, at + KEY_ID_BYTES));
    if (signatures.some((s) => s.keyId === keyId)) throw malformed(`two signatures by key ${keyId}`, '2.3');
    signatures.push({ keyId, signature: bytes.subarray(at + KEY_ID_BYTES, at + SIGNATURE_ENTRY_BYTES) });
  }
  return { header, manifestBytes, signatures };
}
