// Packing payload files into a signed bundle: chunk, describe, sign, frame (SPEC §11).
import { BundleError, isBundleError } from './errors.ts';
import { DEFAULT_LIMITS, type BundleLimits } from './limits.ts';
import { sha256Hex, type Sha256Hex } from './bytes.ts';
import { canonicalJsonBytes } from './canonical-json.ts';
import { chunkFile, chunkingParams } from './chunking/fastcdc.ts';
import { isSemver } from './semver.ts';
import type { Signer } from './keys/signer.ts';
import { signManifest, type BundleSignature } from './keys/manifest-signature.ts';
import { encodeBundle, type ContainerChunk } from './container/encode-bundle.ts';
import { manifestDigest, parseManifest } from './manifest/parse-manifest.ts';
import { MANIFEST_FORMAT_VERSION, type BundleManifest, type ManifestFile } from './manifest/types.ts';

/** One payload file to pack. */
export interface PackFile {
  /** Relative POSIX path inside the bundle (SPEC §7). */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly mediaType?: string;
}

/** Default lifetime of a bundle when neither expiresAt nor expiresInSeconds is given: 365 days. */
export const DEFAULT_EXPIRES_IN_SECONDS = 365 * 24 * 3600;

/** Everything a bundle says about its model; the optional manifest fields pass through as given. */
export interface PackInput extends Partial<
  Pick<
    BundleManifest,
    'lineage' | 'signature' | 'preprocessing' | 'labels' | 'quantization' | 'referenceProfile' | 'selfTests' | 'runtime' | 'extensions'
  >
> {
  readonly name: string;
  /** Semantic version. */
  readonly version: string;
  /** Anti-rollback sequence number, a positive integer greater than every earlier release's. */
  readonly sequence: number;
  readonly files: readonly PackFile[];
  /** Path of the model file among `files`. Default: the first file. */
  readonly modelFile?: string;
  /** Default: now. */
  readonly createdAt?: Date | string;
  /** Absolute expiry; wins over expiresInSeconds. */
  readonly expiresAt?: Date | string;
  /** Lifetime from createdAt, in seconds. Default 365 days. */
  readonly expiresInSeconds?: number;
  /** Average chunk size in bytes (power of two, 256..262144). Default 16384. */
  readonly avgChunkSize?: number;
}

/** Options for packing. */
export interface PackOptions {
  /** Limits the result must satisfy (so every reader with these limits accepts it). Default `DEFAULT_LIMITS`. */
  readonly limits?: BundleLimits;
  /** SHA-256 implementation. Default @noble/hashes. */
  readonly sha256?: Sha256Hex;
}

/** A manifest built from a {@link PackInput}, with the chunks the container must hold. */
export interface BuiltManifest {
  readonly manifest: BundleManifest;
  readonly manifestBytes: Uint8Array;
  readonly manifestDigest: string;
  /** Distinct chunks in first-use order (the container's chunk table order). */
  readonly chunks: readonly ContainerChunk[];
}

/** A packed bundle. */
export interface PackedBundle extends BuiltManifest {
  readonly bytes: Uint8Array;
  readonly signatures: readonly BundleSignature[];
}

/**
 * Builds the manifest for `input` without signing (the server can sign elsewhere). The result is
 * re-read with `parseManifest`, so a bundle this returns is one every reader accepts; a bad input
 * field gives `BUNDLE_INPUT_INVALID` (or `BUNDLE_PATH_INVALID`, `BUNDLE_TOO_LARGE`).
 */
export function buildManifest(input: PackInput, options: PackOptions = {}): BuiltManifest {
  const hash = options.sha256 ?? sha256Hex;
  if (!isSemver(input.version)) throw inputInvalid(`version ${JSON.stringify(input.version)} is not a semantic version`);
  if (!Number.isSafeInteger(input.sequence) || input.sequence < 1)
    throw inputInvalid(`sequence must be a positive integer, got ${input.sequence}`);
  if (input.files.length === 0) throw inputInvalid('a bundle needs at least one file');
  const chunking = chunkingParams({ avgSize: input.avgChunkSize });
  const createdAt = toTimestamp(input.createdAt ?? new Date(), 'createdAt');
  const expiresAt =
    input.expiresAt !== undefined
      ? toTimestamp(input.expiresAt, 'expiresAt')
      : toTimestamp(new Date(Date.parse(createdAt) + 1000 * (input.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS)), 'expiresAt');
  const chunks = new Map<string, ContainerChunk>();
  const files: ManifestFile[] = input.files.map((f) => {
    const refs = chunkFile(f.bytes, { avgSize: chunking.avgSize, sha256: hash });
    for (const r of refs)
      if (!chunks.has(r.digest)) chunks.set(r.digest, { digest: r.digest, bytes: f.bytes.subarray(r.offset, r.offset + r.length) });
    return { path: f.path, size: f.bytes.length, sha256: hash(f.bytes), mediaType: f.mediaType, chunks: refs };
  });
  const manifest: BundleManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    model: { name: input.name, version: input.version, sequence: input.sequence, file: input.modelFile ?? input.files[0]!.path },
    createdAt,
    expiresAt,
    lineage: input.lineage,
    signature: input.signature,
    preprocessing: input.preprocessing,
    labels: input.labels,
    quantization: input.quantization,
    referenceProfile: input.referenceProfile,
    selfTests: input.selfTests,
    runtime: input.runtime,
    extensions: input.extensions,
    chunking,
    files,
  };
  const manifestBytes = canonicalJsonBytes(manifest);
  let checked: BundleManifest;
  try {
    checked = parseManifest(manifestBytes, options.limits ?? DEFAULT_LIMITS);
  } catch (err) {
    if (isBundleError(err, 'BUNDLE_MALFORMED') || isBundleError(err, 'BUNDLE_VERSION_UNSUPPORTED')) throw inputInvalid(err.message);
    throw err;
  }
  return { manifest: checked, manifestBytes, manifestDigest: manifestDigest(manifestBytes), chunks: [...chunks.values()] };
}

/** Builds, signs (with every signer) and frames a bundle. */
export async function packBundle(input: PackInput, signers: Signer | readonly Signer[], options: PackOptions = {}): Promise<PackedBundle> {
  const built = buildManifest(input, options);
  const signatures = await signManifest(built.manifestBytes, Array.isArray(signers) ? signers : [signers as Signer]);
  return { ...built, signatures, bytes: encodeBundle({ manifestBytes: built.manifestBytes, signatures, chunks: built.chunks }) };
}

function toTimestamp(value: Date | string, field: string): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) throw inputInvalid(`${field} is not a valid time: ${String(value)}`);
  return d.toISOString();
}

function inputInvalid(message: string): BundleError {
  return new BundleError('BUNDLE_INPUT_INVALID', message, 'SPEC §11');
}
