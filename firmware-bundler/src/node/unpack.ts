// Unpacking a bundle into a folder: verify everything in memory first, then write safely (SPEC §7.3, §10.3).
import { BundleError } from '../errors.ts';
import type { TrustedKeys } from '../keys/manifest-signature.ts';
import type { BundleManifest } from '../manifest/types.ts';
import { openBundle, openBundleWithoutSignature, type OpenOptions } from '../verify/open-bundle.ts';
import { nodeSha256Hex } from './node-hash.ts';
import { writeFilesUnder } from './safe-write.ts';

/** Options for {@link unpackBundle}: verification options plus the trust decision. */
export interface UnpackOptions extends OpenOptions {
  /** Keys to verify the signature with. Required unless `allowUnsigned` is true. */
  readonly trusted?: Iterable<Uint8Array> | TrustedKeys;
  /** Skip signature and policy checks (integrity is still checked). For local tooling only. */
  readonly allowUnsigned?: boolean;
}

/** What {@link unpackBundle} wrote. */
export interface UnpackResult {
  readonly manifest: BundleManifest;
  readonly manifestDigest: string;
  readonly signatureVerified: boolean;
  /** Files as written: bundle path, size in bytes, sha256, absolute location. */
  readonly files: ReadonlyArray<{ path: string; size: number; sha256: string; writtenTo: string }>;
}

/**
 * Verifies `bytes` completely in memory (nothing is written for a bundle that fails any check)
 * and then writes its payload files under `outDir` with {@link writeFilesUnder}.
 */
export async function unpackBundle(bytes: Uint8Array, outDir: string, options: UnpackOptions): Promise<UnpackResult> {
  const sha256 = options.sha256 ?? nodeSha256Hex;
  let opened: ReturnType<typeof openBundleWithoutSignature>;
  if (options.trusted) opened = openBundle(bytes, options.trusted, { ...options, sha256 });
  else if (options.allowUnsigned) opened = openBundleWithoutSignature(bytes, { ...options, sha256 });
  else throw new BundleError('BUNDLE_INPUT_INVALID', 'unpack needs trusted keys, or allowUnsigned for local tooling', 'SPEC §10.3');
  const entries = opened.manifest.files.map((f) => [f.path, opened.files.get(f.path)!] as const);
  const written = await writeFilesUnder(outDir, entries);
  return {
    manifest: opened.manifest,
    manifestDigest: opened.manifestDigest,
    signatureVerified: options.trusted !== undefined,
    files: opened.manifest.files.map((f, i) => ({ path: f.path, size: f.size, sha256: f.sha256, writtenTo: written[i]! })),
  };
}
