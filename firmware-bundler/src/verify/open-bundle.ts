// Full verification of a bundle file: container, signed manifest, policy, chunk table, chunks, files (SPEC §10.3).
import { BundleError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { sha256Hex, type Sha256Hex } from '../bytes.ts';
import { parseBundle, type ParsedBundle } from '../container/decode-bundle.ts';
import type { TrustedKeys } from '../keys/manifest-signature.ts';
import { uniqueChunks } from '../manifest/chunk-index.ts';
import { manifestDigest, parseManifest } from '../manifest/parse-manifest.ts';
import type { BundleManifest } from '../manifest/types.ts';
import { assembleFile, verifyChunk } from '../assemble.ts';
import { verifyManifest, type VerifiedManifest, type VerifyOptions } from './verify-manifest.ts';

/** Options for {@link openBundle}. */
export interface OpenOptions extends VerifyOptions {
  /** SHA-256 implementation for chunks and files. Default @noble/hashes. */
  readonly sha256?: Sha256Hex;
}

/** Checked payload of a bundle: files by path, chunks by digest (views into the input bytes). */
export interface BundlePayload {
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly chunks: ReadonlyMap<string, Uint8Array>;
}

/** A fully verified bundle. */
export interface OpenedBundle extends VerifiedManifest, BundlePayload {
  readonly parsed: ParsedBundle;
}

/**
 * Verifies a whole bundle in SPEC §10.3 order: `parseBundle` (framing and limits), `verifyManifest`
 * (signatures, manifest, policy), then `checkBundlePayload` (chunk table, chunk and file hashes).
 * Returns the manifest and the payload files; throws a `BundleError` with the first failing code.
 */
export function openBundle(bytes: Uint8Array, trusted: Iterable<Uint8Array> | TrustedKeys, options: OpenOptions = {}): OpenedBundle {
  const parsed = parseBundle(bytes, options.limits ?? DEFAULT_LIMITS);
  const verified = verifyManifest(parsed.manifestBytes, parsed.signatures, trusted, options);
  return { ...verified, ...checkBundlePayload(parsed, verified.manifest, options.sha256), parsed };
}

/**
 * Checks a parsed container's chunks against its (already checked) manifest: the chunk table must
 * list exactly the manifest's distinct chunks in first-use order (`BUNDLE_MALFORMED`, so reordered,
 * duplicated, missing or extra chunks are refused), each chunk must hash to its digest
 * (`BUNDLE_CHUNK_CORRUPT`), and each assembled file to its sha256 (`BUNDLE_FILE_CORRUPT`).
 */
export function checkBundlePayload(parsed: ParsedBundle, manifest: BundleManifest, hash: Sha256Hex = sha256Hex): BundlePayload {
  const expected = uniqueChunks(manifest);
  if (expected.length !== parsed.chunks.length) {
    throw new BundleError(
      'BUNDLE_MALFORMED',
      `chunk table holds ${parsed.chunks.length} chunks, manifest names ${expected.length}`,
      'SPEC §2.4',
    );
  }
  expected.forEach((want, i) => {
    const got = parsed.chunks[i]!;
    if (got.digest !== want.digest || got.bytes.length !== want.length) {
      throw new BundleError('BUNDLE_MALFORMED', `chunk table entry ${i} is not the manifest's chunk ${want.digest}`, 'SPEC §2.4');
    }
  });
  const chunks = new Map<string, Uint8Array>();
  for (const c of parsed.chunks) {
    verifyChunk({ digest: c.digest, length: c.bytes.length }, c.bytes, hash);
    chunks.set(c.digest, c.bytes);
  }
  const files = new Map<string, Uint8Array>();
  // Every chunk was hashed just above; only the whole-file hashes remain to be checked.
  for (const file of manifest.files)
    files.set(
      file.path,
      assembleFile(file, (d) => chunks.get(d), { sha256: hash, chunksVerified: true }),
    );
  return { files, chunks };
}

/**
 * Integrity-only open for local tooling (`unpack`, `export-c`, `diff` without `--trust`): framing,
 * manifest, chunk and file hashes, but NO signature and no policy. Never use it on a device.
 */
export function openBundleWithoutSignature(
  bytes: Uint8Array,
  options: Pick<OpenOptions, 'limits' | 'sha256'> = {},
): Omit<OpenedBundle, 'keyIds'> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const parsed = parseBundle(bytes, limits);
  const manifest = parseManifest(parsed.manifestBytes, limits);
  return {
    manifest,
    manifestDigest: manifestDigest(parsed.manifestBytes),
    ...checkBundlePayload(parsed, manifest, options.sha256),
    parsed,
  };
}
