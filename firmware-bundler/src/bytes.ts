// Byte helpers that work the same in browsers and Node (Uint8Array only, never Buffer).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

const encoder = new TextEncoder();

/** UTF-8 encodes `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, returning undefined on invalid sequences instead of inserting U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Bytes of a lower-case or upper-case hex string; throws on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  return hexToBytes(hex);
}

/** SHA-256 of `bytes` as 64 lower-case hex characters. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** SHA-256 of `bytes` (32 bytes). */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** Whether two byte arrays hold the same bytes. Not constant-time: use for public data only. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenation of `parts` into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether `s` is exactly 64 lower-case hex characters (a SHA-256 digest as the format writes it). */
export function isDigestHex(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

/**
 * A SHA-256 function returning lower-case hex. The default is @noble/hashes (runs everywhere);
 * Node callers may pass `nodeSha256Hex` from the `./node` entry, several times faster.
 */
export type Sha256Hex = (bytes: Uint8Array) => string;
