// Text encodings of key files: JSON with a kind tag and key id, so a swapped or damaged file is caught (SPEC §6.4).
import { BundleError } from '../errors.ts';
import { fromHex, toHex } from '../bytes.ts';
import { keyIdOf, keyPairFromSecret, PUBLIC_KEY_BYTES, type KeyPair } from './ed25519.ts';

/** `kind` of a secret key file. */
export const SECRET_KEY_KIND = 'flotilla-ed25519-secret-key';
/** `kind` of a public key file. */
export const PUBLIC_KEY_KIND = 'flotilla-ed25519-public-key';

/** Contents of a secret key file (keep it private: it also holds the public key). */
export function encodeSecretKeyFile(pair: KeyPair): string {
  return `${JSON.stringify({ kind: SECRET_KEY_KIND, keyId: pair.keyId, secretKey: toHex(pair.secretKey), publicKey: toHex(pair.publicKey) }, null, 2)}\n`;
}

/** Contents of a public key file. */
export function encodePublicKeyFile(publicKey: Uint8Array): string {
  return `${JSON.stringify({ kind: PUBLIC_KEY_KIND, keyId: keyIdOf(publicKey), publicKey: toHex(publicKey) }, null, 2)}\n`;
}

/** The key pair in a secret key file; throws `BUNDLE_KEY_INVALID` on any mismatch. */
export function decodeSecretKeyFile(text: string): KeyPair {
  const obj = parseKeyJson(text, SECRET_KEY_KIND);
  const pair = keyPairFromSecret(hexField(obj, 'secretKey'));
  if (obj.publicKey !== undefined && obj.publicKey !== toHex(pair.publicKey)) throw invalid('publicKey does not match secretKey');
  if (obj.keyId !== undefined && obj.keyId !== pair.keyId) throw invalid('keyId does not match the key');
  return pair;
}

/**
 * The public key in a public key file, or in a bare 64-character hex line (handy in configs).
 * A secret key file is refused, so a private key is never mistaken for a trust anchor.
 */
export function decodePublicKeyFile(text: string): Uint8Array {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return fromHex(trimmed.toLowerCase());
  const obj = parseKeyJson(text, PUBLIC_KEY_KIND);
  const publicKey = hexField(obj, 'publicKey');
  if (obj.keyId !== undefined && obj.keyId !== keyIdOf(publicKey)) throw invalid('keyId does not match the key');
  return publicKey;
}

function parseKeyJson(text: string, kind: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw invalid('key file is not JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid('key file is not a JSON object');
  const rec = obj as Record<string, unknown>;
  if (rec.kind !== kind) throw invalid(`key file kind is ${JSON.stringify(rec.kind)}, expected ${kind}`);
  return rec;
}

function hexField(obj: Record<string, unknown>, field: string): Uint8Array {
  const v = obj[field];
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v))
    throw invalid(`${field} must be ${PUBLIC_KEY_BYTES * 2} lower-case hex characters`);
  return fromHex(v);
}

function invalid(message: string): BundleError {
  return new BundleError('BUNDLE_KEY_INVALID', message, 'SPEC §6.4');
}
