// Trust updates (SPEC §6.6): a signed document that replaces the set of bundle-signing keys a device
// trusts, signed by at least `threshold` keys of the set it replaces, so a leaked or retired key can
// be removed from a fleet without touching a device by hand.
import { canonicalJsonBytes } from '../canonical-json.ts';
import { BundleError } from '../errors.ts';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.ts';
import { ed25519Verify, keyIdOf, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './ed25519.ts';
import type { Signer } from './signer.ts';

/** Bounds of a trust document: a device checks at most this many keys and signatures. */
export const TRUST_LIMITS = Object.freeze({ keys: 16, signatures: 16 });

/** The signed part: which keys a device trusts from now on, and how many must sign the next update. */
export interface TrustDocument {
  v: 1;
  /** Grows with every update; a device refuses a version not above the one it holds (rollback). */
  version: number;
  /** Hex Ed25519 public keys (64 characters each), distinct. */
  keys: string[];
  /** Signatures the next trust update needs from these keys (a bundle still needs one, SPEC §6.3). */
  threshold: number;
  issuedAt: string;
}

/** A trust document with its signatures, as delivered in a desired state [WIRE-2.2.3]. */
export interface TrustUpdate extends TrustDocument {
  signatures: { keyId: string; signature: string }[];
}

/** What a device trusts now: the provisioned keys are version 0 with threshold 1. */
export interface TrustState {
  version: number;
  keys: string[];
  threshold: number;
}

/** Domain separation: a bundle key signing a trust update can never be mistaken for a manifest signature (SPEC §6.3). */
export const TRUST_CONTEXT = 'flotilla-trust-update/v1\n';

const invalid = (message: string) => new BundleError('BUNDLE_TRUST_UPDATE_INVALID', message, 'SPEC §6.6');

/** The bytes each signature covers: the context then the canonical JSON of the document. */
export function trustMessage(doc: TrustDocument): Uint8Array {
  const { v, version, keys, threshold, issuedAt } = doc;
  return concatBytes([utf8(TRUST_CONTEXT), canonicalJsonBytes({ v, version, keys, threshold, issuedAt })]);
}

/** Checks the document's own shape (keys, threshold, version); throws BUNDLE_TRUST_UPDATE_INVALID. */
export function checkTrustDocument(doc: TrustDocument): void {
  if (doc.v !== 1) throw invalid(`trust document version ${String(doc.v)} is not supported`);
  if (!Number.isSafeInteger(doc.version) || doc.version < 1) throw invalid('version must be a positive integer');
  if (!Array.isArray(doc.keys) || doc.keys.length === 0 || doc.keys.length > TRUST_LIMITS.keys)
    throw invalid(`between 1 and ${TRUST_LIMITS.keys} keys are required`);
  for (const k of doc.keys) {
    if (typeof k !== 'string' || !/^[0-9a-f]{64}$/.test(k))
      throw invalid('each key must be 64 lower-case hex characters (a raw Ed25519 public key)');
  }
  if (new Set(doc.keys).size !== doc.keys.length) throw invalid('keys must be distinct');
  if (!Number.isSafeInteger(doc.threshold) || doc.threshold < 1 || doc.threshold > doc.keys.length)
    throw invalid(`threshold must be between 1 and the number of keys (${doc.keys.length})`);
  if (typeof doc.issuedAt !== 'string' || doc.issuedAt.length > 40 || Number.isNaN(Date.parse(doc.issuedAt)))
    throw invalid('issuedAt must be an ISO 8601 time');
}

/** Signs `doc` with each signer (distinct keys); the result is what devices receive. */
export async function signTrustUpdate(doc: TrustDocument, signers: readonly Signer[]): Promise<TrustUpdate> {
  checkTrustDocument(doc);
  if (signers.length === 0) throw invalid('at least one signer is required');
  if (new Set(signers.map((s) => s.keyId)).size !== signers.length) throw invalid('signers must have distinct keys');
  const message = trustMessage(doc);
  const signatures: TrustUpdate['signatures'] = [];
  for (const s of signers) signatures.push({ keyId: s.keyId, signature: toHex(await s.sign(message)) });
  return { ...doc, keys: [...doc.keys], signatures };
}

/**
 * Verifies `update` against what the device trusts now and returns the new state. Refused with
 * BUNDLE_TRUST_UPDATE_INVALID when: the document is malformed; its version is not above
 * `current.version` (rollback or replay); fewer than `current.threshold` distinct keys of the CURRENT
 * set signed it (a signature by a key outside the set — one an earlier update removed — counts for
 * nothing); or a signature by a current key does not verify.
 */
export function verifyTrustUpdate(update: TrustUpdate, current: TrustState): TrustState {
  checkTrustDocument(update);
  if (update.version <= current.version)
    throw invalid(`trust version ${update.version} is not newer than the trusted version ${current.version}`);
  if (!Array.isArray(update.signatures) || update.signatures.length > TRUST_LIMITS.signatures)
    throw invalid(`at most ${TRUST_LIMITS.signatures} signatures`);
  const byId = new Map(current.keys.map((hex) => [keyIdOf(fromHex(hex)), fromHex(hex)]));
  const message = trustMessage(update);
  const valid = new Set<string>();
  for (const { keyId, signature } of update.signatures) {
    const key = byId.get(keyId);
    if (!key) continue;
    const sig =
      typeof signature === 'string' && /^[0-9a-f]+$/.test(signature) && signature.length === SIGNATURE_BYTES * 2
        ? fromHex(signature)
        : null;
    if (!sig || key.length !== PUBLIC_KEY_BYTES || !ed25519Verify(sig, message, key))
      throw invalid(`the signature by currently trusted key ${keyId} does not verify`);
    valid.add(keyId);
  }
  if (valid.size < current.threshold) {
    const by = update.signatures.map((s) => String(s.keyId).slice(0, 16)).join(', ') || 'none';
    throw invalid(`${valid.size} signature(s) by currently trusted keys, ${current.threshold} required (signed by: ${by})`);
  }
  return { version: update.version, keys: [...update.keys], threshold: update.threshold };
}

/** The starting state of a device provisioned with `keys` (raw 32-byte public keys). */
export function initialTrust(keys: Iterable<Uint8Array>): TrustState {
  return { version: 0, keys: [...new Set([...keys].map((k) => toHex(k)))], threshold: 1 };
}
