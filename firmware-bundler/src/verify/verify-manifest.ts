// The device's first check: signature over the raw manifest bytes, then parsing, then policy (SPEC §10.1).
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { checkManifestSignatures, type BundleSignature, type TrustedKeys } from '../keys/manifest-signature.ts';
import { assertManifestSize, manifestDigest, parseManifest } from '../manifest/parse-manifest.ts';
import type { BundleManifest } from '../manifest/types.ts';
import { checkPolicy, type PolicyOptions } from './policy.ts';

/** Options for {@link verifyManifest}: device policy plus how many trusted signatures are needed. */
export interface VerifyOptions extends PolicyOptions {
  /** Distinct trusted keys that must have signed. Default 1. */
  readonly threshold?: number;
  /** Reader limits. Default `DEFAULT_LIMITS`. */
  readonly limits?: BundleLimits;
}

/** A manifest that passed {@link verifyManifest}. */
export interface VerifiedManifest {
  readonly manifest: BundleManifest;
  /** SHA-256 hex of the manifest bytes: the bundle's identity. */
  readonly manifestDigest: string;
  /** Trusted key ids whose signatures verified. */
  readonly keyIds: readonly string[];
}

/**
 * Verifies a signed manifest (SPEC §10.1): the manifest size limit, then the signatures over the
 * raw bytes BEFORE any parsing (`BUNDLE_KEY_UNTRUSTED`, `BUNDLE_SIGNATURE_INVALID`), then the
 * manifest itself (`parseManifest`), then device policy (`checkPolicy`). Chunks are checked later,
 * one by one, against the digests this manifest lists.
 */
export function verifyManifest(
  manifestBytes: Uint8Array,
  signatures: readonly BundleSignature[],
  trusted: Iterable<Uint8Array> | TrustedKeys,
  options: VerifyOptions = {},
): VerifiedManifest {
  const limits = options.limits ?? DEFAULT_LIMITS;
  // Size first so an oversized unsigned blob is never hashed; then signature before JSON parsing, so
  // only bytes a trusted key vouched for ever reach the parser.
  assertManifestSize(manifestBytes, limits);
  const keyIds = checkManifestSignatures(manifestBytes, signatures, trusted, options.threshold);
  const manifest = parseManifest(manifestBytes, limits);
  checkPolicy(manifest, options);
  return { manifest, manifestDigest: manifestDigest(manifestBytes), keyIds };
}
