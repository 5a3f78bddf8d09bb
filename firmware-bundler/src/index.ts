// Public face of @flotilla/firmware-bundler: the browser-safe bundle contract (no Node built-ins here).
export { BUNDLE_ERROR_CODES, BundleError, isBundleError, type BundleErrorCode } from './errors.ts';
export { DEFAULT_LIMITS, withLimits, type BundleLimits } from './limits.ts';
export { bytesEqual, concatBytes, fromHex, sha256Hex, toHex, utf8, type Sha256Hex } from './bytes.ts';
export { canonicalJson, canonicalJsonBytes, parseCanonicalJson, type JsonValue } from './canonical-json.ts';
export { compareSemver, isSemver, parseSemver, type SemVer } from './semver.ts';
export { GEAR, GEAR_SEED, mulberry32 } from './chunking/gear-table.ts';
export {
  CHUNKING_ALGORITHM,
  DEFAULT_AVG_CHUNK_SIZE,
  MAX_AVG_CHUNK_SIZE,
  MIN_AVG_CHUNK_SIZE,
  chunkBoundaries,
  chunkFile,
  chunkingParams,
  type ChunkRef,
  type ChunkingOptions,
  type ChunkingParams,
} from './chunking/fastcdc.ts';
export {
  PUBLIC_KEY_BYTES,
  SECRET_KEY_BYTES,
  SIGNATURE_BYTES,
  createEd25519Signer,
  ed25519Verify,
  generateKeyPair,
  keyFingerprint,
  keyIdOf,
  keyPairFromSecret,
  normalizeFingerprint,
  type KeyPair,
} from './keys/ed25519.ts';
export type { Signer } from './keys/signer.ts';
export {
  TRUST_CONTEXT,
  TRUST_LIMITS,
  checkTrustDocument,
  initialTrust,
  signTrustUpdate,
  trustMessage,
  verifyTrustUpdate,
  type TrustDocument,
  type TrustState,
  type TrustUpdate,
} from './keys/trust-update.ts';
export {
  PUBLIC_KEY_KIND,
  SECRET_KEY_KIND,
  decodePublicKeyFile,
  decodeSecretKeyFile,
  encodePublicKeyFile,
  encodeSecretKeyFile,
} from './keys/key-file.ts';
export {
  SIGNATURE_CONTEXT,
  checkManifestSignatures,
  signManifest,
  signedMessage,
  trustedKeys,
  type BundleSignature,
  type TrustedKeys,
} from './keys/manifest-signature.ts';
export * from './manifest/types.ts';
export { assertManifestSize, checkManifestLimits, manifestDigest, parseManifest } from './manifest/parse-manifest.ts';
export { MAX_PATH_DEPTH, MAX_PATH_LENGTH, assertDistinctPaths, assertSafePath, isSafePath } from './manifest/paths.ts';
export { uniqueChunks, type UniqueChunk } from './manifest/chunk-index.ts';
export { BUNDLE_EXTENSION, CONTAINER_FORMAT_VERSION, HEADER_BYTES, MAGIC } from './container/layout.ts';
export { encodeBundle, type BundleParts, type ContainerChunk } from './container/encode-bundle.ts';
export {
  parseBundle,
  readBundleHeader,
  readBundleManifest,
  type BundleHead,
  type BundleHeader,
  type ParsedBundle,
} from './container/decode-bundle.ts';
export { checkPolicy, type PolicyOptions } from './verify/policy.ts';
export { verifyManifest, type VerifiedManifest, type VerifyOptions } from './verify/verify-manifest.ts';
export {
  checkBundlePayload,
  openBundle,
  openBundleWithoutSignature,
  type BundlePayload,
  type OpenOptions,
  type OpenedBundle,
} from './verify/open-bundle.ts';
export { assembleFile, assembleFileAsync, verifyChunk, type AssembleOptions, type AsyncChunkSource, type ChunkSource } from './assemble.ts';
export {
  DEFAULT_EXPIRES_IN_SECONDS,
  buildManifest,
  packBundle,
  type BuiltManifest,
  type PackFile,
  type PackInput,
  type PackOptions,
  type PackedBundle,
} from './pack.ts';
export { diffManifests, planFetch, type BundleDiff, type FileDiff } from './diff.ts';
export { inspectBundle, type BundleInspection, type InspectOptions } from './inspect.ts';
export { binIndex, histogram } from './profile.ts';
export { generateC, type ExportCFiles, type ExportCInput } from './export-c/generate-c.ts';
export { SUMMARY_FEATURES, compileFeatures, type FeatureExtractor } from './features/features.ts';
export { contrast, edgeDensity, imageLayout, luminance, meanBrightness, type ImageLayout } from './features/image-features.ts';
