// Reading manifest bytes into a checked BundleManifest, in the order SPEC §4.10 fixes so each fault has one code.
import { BundleError } from '../errors.ts';
import { DEFAULT_LIMITS, type BundleLimits } from '../limits.ts';
import { parseCanonicalJson } from '../canonical-json.ts';
import { sha256Hex } from '../bytes.ts';
import { isObject } from './schema-kit.ts';
import { manifestSchema } from './schema.ts';
import { assertDistinctPaths, assertSafePath } from './paths.ts';
import { checkManifestConsistency } from './consistency.ts';
import { MANIFEST_FORMAT_VERSION, type BundleManifest } from './types.ts';

/**
 * Parses and checks manifest bytes WITHOUT checking any signature (call `verifyManifest` for
 * that). Order (SPEC §4.10): size limit, canonical JSON (`BUNDLE_MALFORMED`), format version
 * (`BUNDLE_VERSION_UNSUPPORTED`), schema (`BUNDLE_MALFORMED`), declared sizes and counts
 * (`BUNDLE_TOO_LARGE`), payload paths (`BUNDLE_PATH_INVALID`), cross-field rules (`BUNDLE_MALFORMED`).
 */
export function parseManifest(manifestBytes: Uint8Array, limits: BundleLimits = DEFAULT_LIMITS): BundleManifest {
  assertManifestSize(manifestBytes, limits);
  const value = parseCanonicalJson(manifestBytes);
  if (!isObject(value)) throw new BundleError('BUNDLE_MALFORMED', 'manifest is not a JSON object', 'SPEC §4.1');
  const version = value.formatVersion;
  if (version !== MANIFEST_FORMAT_VERSION) {
    if (typeof version === 'number')
      throw new BundleError(
        'BUNDLE_VERSION_UNSUPPORTED',
        `manifest format version ${version} is not supported (this reader: ${MANIFEST_FORMAT_VERSION})`,
        'SPEC §4.1',
      );
    throw new BundleError('BUNDLE_MALFORMED', 'manifest has no numeric formatVersion', 'SPEC §4.1');
  }
  manifestSchema(value, '');
  const manifest = value as unknown as BundleManifest;
  checkManifestLimits(manifest, limits);
  for (const file of manifest.files) assertSafePath(file.path);
  assertDistinctPaths(manifest.files.map((f) => f.path));
  checkManifestConsistency(manifest);
  return manifest;
}

/** Throws `BUNDLE_TOO_LARGE` when the manifest bytes exceed `limits.maxManifestBytes` (SPEC §8.1). */
export function assertManifestSize(manifestBytes: Uint8Array, limits: BundleLimits = DEFAULT_LIMITS): void {
  if (manifestBytes.length > limits.maxManifestBytes) {
    throw new BundleError('BUNDLE_TOO_LARGE', `manifest is ${manifestBytes.length} bytes, limit ${limits.maxManifestBytes}`, 'SPEC §8.1');
  }
}

/** The manifest digest: SHA-256 hex of the exact manifest bytes; a bundle's identity (SPEC §4.11). */
export function manifestDigest(manifestBytes: Uint8Array): string {
  return sha256Hex(manifestBytes);
}

/** Throws `BUNDLE_TOO_LARGE` when the manifest declares more than `limits` allow (SPEC §8.2). */
export function checkManifestLimits(manifest: BundleManifest, limits: BundleLimits): void {
  const tooLarge = (what: string, value: number, limit: number) =>
    new BundleError('BUNDLE_TOO_LARGE', `manifest declares ${what} ${value}, limit ${limit}`, 'SPEC §8.2');
  if (manifest.files.length > limits.maxFiles) throw tooLarge('file count', manifest.files.length, limits.maxFiles);
  let refs = 0;
  let total = 0;
  for (const file of manifest.files) {
    if (file.size > limits.maxFileBytes) throw tooLarge(`size of ${JSON.stringify(file.path)}`, file.size, limits.maxFileBytes);
    total += file.size;
    refs += file.chunks.length;
    for (const c of file.chunks) {
      if (c.length > limits.maxChunkBytes) throw tooLarge('chunk length', c.length, limits.maxChunkBytes);
    }
  }
  if (refs > limits.maxChunks) throw tooLarge('chunk count', refs, limits.maxChunks);
  if (total > limits.maxTotalBytes) throw tooLarge('total payload size', total, limits.maxTotalBytes);
}
