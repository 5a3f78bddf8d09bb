// Resource limits a reader enforces before allocating anything a bundle declares (SPEC §8).

/** Upper bounds on what a bundle may declare. Every size is in bytes. */
export interface BundleLimits {
  /** Largest manifest, in bytes. Default 8 MiB (about 80,000 chunk references). */
  readonly maxManifestBytes: number;
  /** Most signatures in one bundle. Default 8. */
  readonly maxSignatures: number;
  /** Most payload files in one manifest. Default 64. */
  readonly maxFiles: number;
  /** Most chunks: unique chunks in a container, and chunk references in a manifest. Default 131,072. */
  readonly maxChunks: number;
  /** Largest single chunk, in bytes. Default 1 MiB (the chunker's maximum is 4 × its average). */
  readonly maxChunkBytes: number;
  /** Largest single payload file, in bytes. Default 1 GiB. */
  readonly maxFileBytes: number;
  /** Largest total of payload bytes (sum of file sizes, and of container chunk data). Default 1 GiB. */
  readonly maxTotalBytes: number;
}

/** The limits every reader uses unless told otherwise (SPEC §8.1). */
export const DEFAULT_LIMITS: BundleLimits = Object.freeze({
  maxManifestBytes: 8 * 1024 * 1024,
  maxSignatures: 8,
  maxFiles: 64,
  maxChunks: 131_072,
  maxChunkBytes: 1024 * 1024,
  maxFileBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
});

/** `DEFAULT_LIMITS` with some bounds replaced. */
export function withLimits(overrides: Partial<BundleLimits> = {}): BundleLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
