// The signed envelope a device fetches first [WIRE-2.7]: the manifest bytes exactly as signed,
// and the signatures, as canonical JSON so its digest is stable.
import { canonicalJsonBytes, type BundleSignature } from '@flotilla/firmware-bundler';

export function encodeEnvelope(manifestBytes: Uint8Array, signatures: readonly BundleSignature[]): Uint8Array {
  return canonicalJsonBytes({
    v: 1,
    manifest: Buffer.from(manifestBytes).toString('base64'),
    signatures: signatures.map((s) => ({ keyId: s.keyId, signature: Buffer.from(s.signature).toString('base64') })),
  });
}
