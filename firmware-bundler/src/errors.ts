// The one error class of the bundle format, with stable codes that callers match on (SPEC §9).

/**
 * Every failure the bundle library reports, by stable code. Devices, the server and tests match on
 * these strings, never on messages; a code is never renamed or reused within a format version.
 */
export const BUNDLE_ERROR_CODES = [
  /** Container or manifest does not follow the format (framing, JSON, schema, chunk table). */
  'BUNDLE_MALFORMED',
  /** Container or manifest format version this reader does not implement. */
  'BUNDLE_VERSION_UNSUPPORTED',
  /** A declared size or count exceeds the reader's limits (checked before allocating). */
  'BUNDLE_TOO_LARGE',
  /** No signature from any trusted key. */
  'BUNDLE_KEY_UNTRUSTED',
  /** A signature by a trusted key id does not verify over the manifest bytes. */
  'BUNDLE_SIGNATURE_INVALID',
  /** The manifest's expiresAt lies before the verifier's clock. */
  'BUNDLE_EXPIRED',
  /** The manifest's sequence is not newer than what the device accepts. */
  'BUNDLE_ROLLBACK',
  /** Runtime requirements (agent version, opset, execution providers) are not met. */
  'BUNDLE_RUNTIME_INCOMPATIBLE',
  /** A payload file name could escape or collide in the unpack folder. */
  'BUNDLE_PATH_INVALID',
  /** A chunk's bytes do not hash to the digest the manifest names. */
  'BUNDLE_CHUNK_CORRUPT',
  /** A chunk the manifest names is not available to assemble a file. */
  'BUNDLE_CHUNK_MISSING',
  /** An assembled file does not hash to (or is not the size) the manifest names. */
  'BUNDLE_FILE_CORRUPT',
  /** A key or key file is not a valid Ed25519 key of the expected kind. */
  'BUNDLE_KEY_INVALID',
  /** Inputs to pack or export are invalid (bad semver, bad field, bad option value). */
  'BUNDLE_INPUT_INVALID',
  /** A file the command would create already exists. */
  'BUNDLE_OUTPUT_EXISTS',
  /** Command-line usage error (missing or invalid flags, unreadable input file). */
  'BUNDLE_USAGE',
  /** A trust update (SPEC §6.5) is malformed, not newer, or not signed by enough currently trusted keys. */
  'BUNDLE_TRUST_UPDATE_INVALID',
] as const;

/** One of {@link BUNDLE_ERROR_CODES}. */
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

/** A bundle failure with a stable {@link BundleErrorCode}; `clause` cites the SPEC.md clause violated. */
export class BundleError extends Error {
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    readonly clause?: string,
  ) {
    super(clause ? `${message} [${clause}]` : message);
    this.name = 'BundleError';
  }
}

/** Whether `err` is a {@link BundleError}, optionally with the given code. */
export function isBundleError(err: unknown, code?: BundleErrorCode): err is BundleError {
  return err instanceof BundleError && (code === undefined || err.code === code);
}
