// Field-by-field schema of a format-version-1 manifest (SPEC §4): types and ranges only, no cross-field rules.
import { TENSOR_DTYPES } from './types.ts';
import { anyJson, arr, bool, int, num, nullable, obj, oneOf, record, str, fail, type Check } from './schema-kit.ts';
import { isSemver } from '../semver.ts';

const NAME_RE = /^[A-Za-z0-9._-]+$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
const KEY_ID_RE = /^[0-9a-f]{16}$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An RFC 3339 UTC timestamp exactly as `Date.prototype.toISOString` writes it. */
export const timestamp: Check = (v, p) => {
  if (typeof v !== 'string' || !TIMESTAMP_RE.test(v) || Number.isNaN(Date.parse(v)) || new Date(v).toISOString() !== v) {
    fail(p, 'a UTC timestamp like 2025-01-31T12:00:00.000Z');
  }
};

const semver: Check = (v, p) => {
  if (!isSemver(v)) fail(p, 'a semantic version (semver 2.0.0)');
};

const digest = str(64, HEX64_RE);
// Path rules are SPEC §7's job, so a path trick is reported as BUNDLE_PATH_INVALID, not as a schema failure.
const anyString: Check = (v, p) => {
  if (typeof v !== 'string') fail(p, 'a string');
};
const numbers = arr(num(), 1 << 20);

const tensor = obj({
  name: str(128),
  dtype: oneOf(TENSOR_DTYPES),
  shape: arr(nullable(int(0)), 16),
});

const chunkRef = obj({ digest, offset: int(0), length: int(1) });

/** The manifest schema. Array caps bound work; byte limits (SPEC §8) are checked after it. */
export const manifestSchema: Check = obj(
  {
    formatVersion: int(1),
    model: obj({ name: str(128, NAME_RE), version: semver, sequence: int(1), file: anyString }),
    createdAt: timestamp,
    expiresAt: timestamp,
    chunking: obj({ algorithm: str(64, NAME_RE), minSize: int(1), avgSize: int(1), maxSize: int(1) }),
    files: arr(
      obj({ path: anyString, size: int(1), sha256: digest, chunks: arr(chunkRef, Number.MAX_SAFE_INTEGER, 1) }, { mediaType: str(128) }),
      Number.MAX_SAFE_INTEGER,
      1,
    ),
  },
  {
    lineage: obj({}, { datasetDigest: str(256), runId: str(256), codeVersion: str(256), parentModel: str(256) }),
    signature: obj({ inputs: arr(tensor, 64, 1), outputs: arr(tensor, 64, 1) }),
    preprocessing: obj({ steps: arr(obj({ op: str(64) }, { input: str(128), params: record(anyJson, 64) }), 64) }),
    labels: arr(str(256), 100_000),
    quantization: obj(
      { scheme: str(64) },
      {
        weightType: oneOf(TENSOR_DTYPES),
        activationType: oneOf(TENSOR_DTYPES),
        perChannel: bool,
        calibrationSamples: int(0),
        floatParentDigest: digest,
        metrics: record(num(), 64),
      },
    ),
    referenceProfile: obj({
      features: arr(
        obj(
          { name: str(128), edges: arr(num(), 4097, 2), frequencies: arr(num(0), 4096, 1) },
          { input: str(128), index: int(0), count: int(0) },
        ),
        4096,
      ),
    }),
    selfTests: arr(
      obj({ name: str(128), inputs: record(numbers, 64), expected: record(numbers, 64), tolerance: obj({ abs: num(0) }, { rel: num(0) }) }),
      256,
    ),
    runtime: obj({}, { minAgentVersion: semver, opset: int(1, 1000), executionProviders: arr(str(64), 16, 1) }),
    extensions: record(anyJson, 256),
  },
);

/** Pattern of a key id as the container and manifests write it. */
export const KEY_ID_PATTERN = KEY_ID_RE;
