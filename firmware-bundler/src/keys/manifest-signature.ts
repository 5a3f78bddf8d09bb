// Signing and checking manifest signatures, with a domain-separation prefix and key-id lookup (SPEC §6.3).
import { BundleError } from '../errors.ts';
import { concatBytes, utf8 } from '../bytes.ts';
import { ed25519Verify, keyIdOf, SIGNATURE_BYTES } from './ed25519.ts';
import type { Signer } from './signer.ts';

/** One signature over a manifest: the signer's key id (16 hex characters) and 64 signature bytes. */
export interface BundleSignature {
  readonly keyId: string;
  readonly signature: Uint8Array;
}

/**
 * Prefix of every signed message, so a key that signs bundles can never be tricked into signing
 * something that parses as a manifest in another protocol, nor the reverse (SPEC §6.3).
 */
export const SIGNATURE_CONTEXT = 'flotilla-bundle-manifest/v1\n';

/** The exact message an Ed25519 bundle signature covers: context prefix then the manifest bytes. */
export function signedMessage(manifestBytes: Uint8Array): Uint8Array {
  return concatBytes([utf8(SIGNATURE_CONTEXT), manifestBytes]);
}

/** Signs `manifestBytes` with each signer, in the given order; key ids must be distinct. */
export async function signManifest(manifestBytes: Uint8Array, signers: readonly Signer[]): Promise<BundleSignature[]> {
  if (signers.length === 0) throw new BundleError('BUNDLE_INPUT_INVALID', 'at least one signer is required', 'SPEC §6.3');
  const ids = new Set(signers.map((s) => s.keyId));
  if (ids.size !== signers.length) throw new BundleError('BUNDLE_INPUT_INVALID', 'signers must have distinct key ids', 'SPEC §6.3');
  const message = signedMessage(manifestBytes);
  const out: BundleSignature[] = [];
  for (const signer of signers) {
    const signature = await signer.sign(message);
    if (signature.length !== SIGNATURE_BYTES)
      throw new BundleError('BUNDLE_KEY_INVALID', `signer ${signer.keyId} returned ${signature.length} bytes`, 'SPEC §6.3');
    out.push({ keyId: signer.keyId, signature });
  }
  return out;
}

/** Trusted public keys indexed by key id; build once per device and reuse. */
export type TrustedKeys = ReadonlyMap<string, Uint8Array>;

/** Indexes 32-byte public keys by key id (accepts an existing map unchanged). */
export function trustedKeys(keys: Iterable<Uint8Array> | TrustedKeys): TrustedKeys {
  if (keys instanceof Map) return keys as TrustedKeys;
  const map = new Map<string, Uint8Array>();
  for (const key of keys as Iterable<Uint8Array>) map.set(keyIdOf(key), key);
  return map;
}

/**
 * Checks signatures over `manifestBytes` (SPEC §6.3): signatures by unknown key ids are ignored
 * (so a bundle can carry old and new keys during a rotation); every signature by a trusted key id
 * must verify, else `BUNDLE_SIGNATURE_INVALID`; fewer than `threshold` (default 1) valid trusted
 * signatures gives `BUNDLE_KEY_UNTRUSTED`. Returns the key ids that verified.
 */
export function checkManifestSignatures(
  manifestBytes: Uint8Array,
  signatures: readonly BundleSignature[],
  keys: Iterable<Uint8Array> | TrustedKeys,
  threshold = 1,
): string[] {
  const trust = trustedKeys(keys);
  const message = signedMessage(manifestBytes);
  const verified: string[] = [];
  for (const { keyId, signature } of signatures) {
    const publicKey = trust.get(keyId);
    if (!publicKey) continue;
    if (!ed25519Verify(signature, message, publicKey)) {
      throw new BundleError('BUNDLE_SIGNATURE_INVALID', `signature by key ${keyId} does not verify`, 'SPEC §6.3');
    }
    if (!verified.includes(keyId)) verified.push(keyId);
  }
  if (verified.length < Math.max(1, threshold)) {
    const seen = signatures.map((s) => s.keyId).join(', ') || 'none';
    throw new BundleError(
      'BUNDLE_KEY_UNTRUSTED',
      `${verified.length} trusted signature(s), ${Math.max(1, threshold)} required (signed by: ${seen})`,
      'SPEC §6.3',
    );
  }
  return verified;
}
