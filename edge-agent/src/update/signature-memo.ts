// Manifest signature checks, remembered per trusted-key set: one update reads the same envelope up to eight times.
import { checkManifestSignatures, toHex, type BundleSignature, type Sha256Hex, type TrustedKeys } from '@flotilla/firmware-bundler';

/** Passing checks kept per key set (a device sees few bundles; oldest forgotten first). */
const MEMO_LIMIT = 16;

const memos = new WeakMap<TrustedKeys, Map<string, readonly string[]>>();

/**
 * {@link checkManifestSignatures} with its passing results remembered. Ed25519 verification is a
 * pure function of key, message and signature, so a check whose inputs are byte-for-byte the same
 * (the manifest named by its SHA-256, the signatures themselves, and the very same `trusted` map)
 * needs no second run; a failing check is never remembered and throws every time. On a device this
 * turns the ~8 verifications of one update (download, verify, stage, probe, commit each re-read the
 * envelope from storage) into one.
 */
export function checkSignaturesOnce(
  manifestBytes: Uint8Array,
  signatures: readonly BundleSignature[],
  trusted: TrustedKeys,
  hash: Sha256Hex,
): string[] {
  let memo = memos.get(trusted);
  if (!memo) memos.set(trusted, (memo = new Map()));
  const key = `${hash(manifestBytes)}|${signatures.map((s) => `${s.keyId}:${toHex(s.signature)}`).join(',')}`;
  const known = memo.get(key);
  if (known) return [...known];
  const keyIds = checkManifestSignatures(manifestBytes, signatures, trusted);
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!);
  memo.set(key, [...keyIds]);
  return keyIds;
}
