// Ed25519 keys, key ids and the Ed25519 signer, on @noble/curves (audited, synchronous, browser-safe) (SPEC §6).
import { ed25519 } from '@noble/curves/ed25519.js';
import { BundleError } from '../errors.ts';
import { sha256Hex } from '../bytes.ts';
import type { Signer } from './signer.ts';

/** Lengths in bytes of an Ed25519 secret key (the RFC 8032 seed), public key and signature. */
export const SECRET_KEY_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** An Ed25519 key pair. `secretKey` is the 32-byte RFC 8032 seed. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** {@link keyIdOf} the public key. */
  readonly keyId: string;
}

/**
 * The key id of a public key: the first 16 hex characters (8 bytes) of SHA-256 over its 32 raw
 * bytes (SPEC §6.2). Ids let a verifier pick the right key, so keys can rotate.
 */
export function keyIdOf(publicKey: Uint8Array): string {
  assertLength(publicKey, PUBLIC_KEY_BYTES, 'public key');
  return sha256Hex(publicKey).slice(0, 16);
}

/**
 * The fingerprint operators compare out of band before a device trusts a key: `SHA256:` and the
 * 64 hex characters of SHA-256 over the 32 raw public key bytes (the key id is its first 16).
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  assertLength(publicKey, PUBLIC_KEY_BYTES, 'public key');
  return `SHA256:${sha256Hex(publicKey)}`;
}

/**
 * A fingerprint as typed or pasted (`SHA256:ab12…`, any case, or the bare 64 hex) in the canonical
 * {@link keyFingerprint} form; null when it is not one.
 */
export function normalizeFingerprint(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha256:/i, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? `SHA256:${hex}` : null;
}

/** A new random key pair, or the pair derived from a 32-byte `seed` (for test keys and HSM import). */
export function generateKeyPair(seed?: Uint8Array): KeyPair {
  if (seed) assertLength(seed, SECRET_KEY_BYTES, 'seed');
  const secretKey = seed ? Uint8Array.from(seed) : ed25519.utils.randomSecretKey();
  return keyPairFromSecret(secretKey);
}

/** The key pair of an existing 32-byte secret key. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  assertLength(secretKey, SECRET_KEY_BYTES, 'secret key');
  const publicKey = ed25519.getPublicKey(secretKey);
  return { secretKey: Uint8Array.from(secretKey), publicKey, keyId: keyIdOf(publicKey) };
}

/** A {@link Signer} holding an Ed25519 secret key in memory. Signatures are deterministic (RFC 8032). */
export function createEd25519Signer(secretKey: Uint8Array): Signer {
  const pair = keyPairFromSecret(secretKey);
  return {
    keyId: pair.keyId,
    publicKey: pair.publicKey,
    sign: (message) => ed25519.sign(message, pair.secretKey),
  };
}

/**
 * Whether `signature` is a valid strict RFC 8032 Ed25519 signature of `message` by `publicKey`.
 * Malformed inputs count as invalid rather than throwing.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    // zip215: false gives RFC 8032 / FIPS 186-5 strictness, which WebCrypto verifiers also apply.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

function assertLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new BundleError('BUNDLE_KEY_INVALID', `${what} must be ${length} bytes`, 'SPEC §6.1');
  }
}
