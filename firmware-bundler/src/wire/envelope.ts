// The signed envelope a device fetches by `manifestDigest` [WIRE-2.7]: canonical JSON around the manifest bytes.
import { canonicalJsonBytes } from '../canonical-json.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { decodeMessage, Envelope } from './messages.ts';

/** A decoded envelope: the manifest bytes exactly as signed, and the signatures over them. */
export interface DecodedEnvelope {
  manifestBytes: Uint8Array;
  signatures: { keyId: string; signature: Uint8Array }[];
}

/** Envelope bytes for a signed manifest; its SHA-256 is the `manifestDigest` of [WIRE-2.2]. */
export function encodeEnvelope(manifestBytes: Uint8Array, signatures: readonly { keyId: string; signature: Uint8Array }[]): Uint8Array {
  return canonicalJsonBytes({
    v: 1,
    manifest: toBase64(manifestBytes),
    signatures: signatures.map((s) => ({ keyId: s.keyId, signature: toBase64(s.signature) })),
  });
}

/** Splits envelope bytes; null when they are not a valid envelope (never throws). Signatures are NOT checked here. */
export function decodeEnvelope(bytes: Uint8Array): DecodedEnvelope | null {
  const env = decodeMessage(Envelope, bytes);
  if (!env) return null;
  const manifestBytes = fromBase64(env.manifest);
  if (!manifestBytes) return null;
  const signatures: DecodedEnvelope['signatures'] = [];
  for (const s of env.signatures) {
    const signature = fromBase64(s.signature);
    if (!signature || !/^[0-9a-f]{16}$/.test(s.keyId)) return null;
    signatures.push({ keyId: s.keyId, signature });
  }
  return { manifestBytes, signatures };
}
