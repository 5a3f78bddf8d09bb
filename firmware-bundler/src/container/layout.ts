// Byte layout constants of the bundle container, format version 1 (SPEC §2).

/** First 8 bytes of every bundle: ASCII "FLOTBNDL". */
export const MAGIC = new Uint8Array([0x46, 0x4c, 0x4f, 0x54, 0x42, 0x4e, 0x44, 0x4c]);
/** Container format version this library writes and reads. */
export const CONTAINER_FORMAT_VERSION = 1;
/** Header length in bytes. */
export const HEADER_BYTES = 32;
/** Raw key id bytes in a signature entry (16 hex characters). */
export const KEY_ID_BYTES = 8;
/** One signature entry: key id then Ed25519 signature. */
export const SIGNATURE_ENTRY_BYTES = KEY_ID_BYTES + 64;
/** One chunk table entry: SHA-256 digest then u32 length. */
export const CHUNK_ENTRY_BYTES = 32 + 4;
/** Conventional file extension of a bundle. */
export const BUNDLE_EXTENSION = '.fbundle';

/** Header field offsets (all integers little-endian). */
export const OFFSET = Object.freeze({
  magic: 0,
  version: 8,
  signatureCount: 10,
  manifestLength: 12,
  chunkCount: 16,
  flags: 20,
  payloadLength: 24,
});
