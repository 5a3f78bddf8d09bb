// A readable summary of a bundle for people and tools, with integrity checked but no device policy (SPEC §13).
import { DEFAULT_LIMITS, type BundleLimits } from './limits.ts';
import { parseBundle } from './container/decode-bundle.ts';
import { checkManifestSignatures, type TrustedKeys } from './keys/manifest-signature.ts';
import { manifestDigest, parseManifest } from './manifest/parse-manifest.ts';
import type { BundleManifest } from './manifest/types.ts';
import { checkBundlePayload } from './verify/open-bundle.ts';
import type { Sha256Hex } from './bytes.ts';

/** Options for {@link inspectBundle}. */
export interface InspectOptions {
  /** When given, signatures are verified against these keys (and failures thrown). */
  readonly trusted?: Iterable<Uint8Array> | TrustedKeys;
  readonly limits?: BundleLimits;
  /** Clock for the `expired` flag, ms since the epoch. Default `Date.now()`. */
  readonly now?: number;
  readonly sha256?: Sha256Hex;
}

/** What {@link inspectBundle} reports. Sizes in bytes. */
export interface BundleInspection {
  readonly formatVersion: number;
  readonly manifestDigest: string;
  readonly manifest: BundleManifest;
  readonly bundleBytes: number;
  readonly headBytes: number;
  readonly manifestBytes: number;
  readonly payloadBytes: number;
  readonly chunkCount: number;
  /** Key ids of the signatures the bundle carries. */
  readonly signedBy: readonly string[];
  /** Trusted key ids that verified; empty when no trust was given. */
  readonly verifiedBy: readonly string[];
  readonly signatureVerified: boolean;
  readonly expired: boolean;
}

/**
 * Parses a bundle, checks its manifest and every chunk and file hash, and (when `trusted` is given)
 * its signatures. Expiry and sequence are reported, not enforced. Throws a `BundleError` on any
 * integrity failure.
 */
export function inspectBundle(bytes: Uint8Array, options: InspectOptions = {}): BundleInspection {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const parsed = parseBundle(bytes, limits);
  const verifiedBy = options.trusted ? checkManifestSignatures(parsed.manifestBytes, parsed.signatures, options.trusted) : [];
  const manifest = parseManifest(parsed.manifestBytes, limits);
  checkBundlePayload(parsed, manifest, options.sha256);
  return {
    formatVersion: parsed.header.formatVersion,
    manifestDigest: manifestDigest(parsed.manifestBytes),
    manifest,
    bundleBytes: bytes.length,
    headBytes: parsed.header.headLength,
    manifestBytes: parsed.manifestBytes.length,
    payloadBytes: parsed.header.payloadLength,
    chunkCount: parsed.chunks.length,
    signedBy: parsed.signatures.map((s) => s.keyId),
    verifiedBy,
    signatureVerified: verifiedBy.length > 0,
    expired: (options.now ?? Date.now()) > Date.parse(manifest.expiresAt),
  };
}
