// The manifest of format version 1, as TypeScript types; SPEC §4 is the normative text.
import type { JsonValue } from '../canonical-json.ts';
import type { ChunkingParams, ChunkRef } from '../chunking/fastcdc.ts';

/** Manifest format version this library writes and reads (SPEC §4.1). */
export const MANIFEST_FORMAT_VERSION = 1;

/** Element types a tensor may declare (ONNX names, lower case). */
export const TENSOR_DTYPES = [
  'float32',
  'float16',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** One named input or output tensor. `shape` entries are dimension sizes, `null` for a dynamic one. */
export interface TensorSpec {
  name: string;
  dtype: TensorDtype;
  shape: (number | null)[];
}

/** Which model this is, and where it stands in its line of releases (SPEC §4.2). */
export interface ModelIdentity {
  /** Model name, 1-128 characters of `[A-Za-z0-9._-]`. */
  name: string;
  /** Semantic version (semver 2.0.0). */
  version: string;
  /** Anti-rollback counter: a positive safe integer that only ever grows across releases. */
  sequence: number;
  /** Path of the payload file that is the model itself (the one `export-c` embeds). */
  file: string;
}

/** Where the model came from; each field at most 256 characters. */
export interface Lineage {
  datasetDigest?: string;
  runId?: string;
  codeVersion?: string;
  parentModel?: string;
}

/** The model's input/output signature. */
export interface IoSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** One preprocessing step the device applies before inference; `op` names are agreed with the agent. */
export interface PreprocessingStep {
  op: string;
  input?: string;
  params?: { [key: string]: JsonValue };
}

/** Preprocessing pipeline, applied in order. */
export interface Preprocessing {
  steps: PreprocessingStep[];
}

/** How the model was quantized and what that cost (SPEC §4.5). */
export interface QuantizationReport {
  /** e.g. `int8-qdq`, or `none` for a float model. */
  scheme: string;
  weightType?: TensorDtype;
  activationType?: TensorDtype;
  perChannel?: boolean;
  calibrationSamples?: number;
  /** sha256 of the float model this one was quantized from. */
  floatParentDigest?: string;
  /** Named numbers (accuracy deltas, top-1 agreement, size ratio). */
  metrics?: { [name: string]: number };
}

/**
 * Training-time histogram of one monitored feature (SPEC §4.6): `edges` (strictly increasing,
 * length k+1) define k bins; `frequencies` (length k, summing to 1) are their expected shares.
 * Values below the first edge count in bin 0, values at or above the last edge in bin k-1.
 */
export interface FeatureProfile {
  name: string;
  /** Input tensor the feature is read from (default: the first input). */
  input?: string;
  /** Flat element index within that tensor. */
  index?: number;
  edges: number[];
  frequencies: number[];
  /** Number of training samples the frequencies were computed from. */
  count?: number;
}

/** Reference feature profile computed from training data. */
export interface ReferenceProfile {
  features: FeatureProfile[];
}

/** A self-test vector (SPEC §4.7): flat row-major inputs and the outputs expected within tolerance. */
export interface SelfTestVector {
  name: string;
  inputs: { [tensor: string]: number[] };
  expected: { [tensor: string]: number[] };
  /** Pass when |actual − expected| ≤ abs + rel × |expected| for every element. */
  tolerance: { abs: number; rel?: number };
}

/** What the device must offer to run this model (SPEC §4.8). */
export interface RuntimeRequirements {
  /** Lowest agent version (semver) that can run this bundle. */
  minAgentVersion?: string;
  /** ONNX opset (default domain) the model needs. */
  opset?: number;
  /** Execution providers the model may run on, in order of preference; one must be available. */
  executionProviders?: string[];
}

/** One payload file: its size in bytes, SHA-256, and its chunks in file order (SPEC §4.9). */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  mediaType?: string;
  chunks: ChunkRef[];
}

/** A format-version-1 manifest. Field order is irrelevant: canonical JSON sorts keys. */
export interface BundleManifest {
  formatVersion: typeof MANIFEST_FORMAT_VERSION;
  model: ModelIdentity;
  /** Creation time, `YYYY-MM-DDTHH:mm:ss.sssZ` (UTC, as `Date.prototype.toISOString` writes it). */
  createdAt: string;
  /** After this time devices refuse the bundle (same format as createdAt). */
  expiresAt: string;
  lineage?: Lineage;
  signature?: IoSignature;
  preprocessing?: Preprocessing;
  labels?: string[];
  quantization?: QuantizationReport;
  referenceProfile?: ReferenceProfile;
  selfTests?: SelfTestVector[];
  runtime?: RuntimeRequirements;
  chunking: ChunkingParams;
  files: ManifestFile[];
  /** Free-form fields for later minor additions; readers ignore what they do not know. */
  extensions?: { [key: string]: JsonValue };
}
