// Manifest parsing: each fault has one code, fixed by the SPEC §4.10 order.
import { describe, expect, it } from 'vitest';
import { parseManifest } from './parse-manifest.ts';
import { canonicalJsonBytes } from '../canonical-json.ts';
import { buildManifest } from '../pack.ts';
import { testPackInput } from '../testing/bundle-fixtures.ts';
import { withLimits } from '../limits.ts';
import { utf8 } from '../bytes.ts';
import type { BundleErrorCode } from '../errors.ts';
import type { BundleManifest } from './types.ts';

const base = (): BundleManifest =>
  structuredClone(
    buildManifest(
      testPackInput({
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
        },
        selfTests: [{ name: 't', inputs: { x: [1, 2] }, expected: { y: [0.5, 0.5] }, tolerance: { abs: 0.01 } }],
        referenceProfile: { features: [{ name: 'f', input: 'x', index: 0, edges: [0, 1, 2], frequencies: [0.25, 0.75] }] },
        labels: ['a', 'b'],
      }),
    ).manifest,
  );

function codeFor(mutate: (m: any) => void, limits = withLimits()): BundleErrorCode | 'ok' {
  const m = base();
  mutate(m);
  try {
    parseManifest(canonicalJsonBytes(m), limits);
    return 'ok';
  } catch (e) {
    return (e as { code: BundleErrorCode }).code;
  }
}

describe('parseManifest [SPEC §4.10]', () => {
  it('accepts what buildManifest writes', () => {
    expect(codeFor(() => {})).toBe('ok');
  });

  it('refuses bytes over maxManifestBytes before parsing (BUNDLE_TOO_LARGE)', () => {
    expect(codeFor(() => {}, withLimits({ maxManifestBytes: 100 }))).toBe('BUNDLE_TOO_LARGE');
  });

  it('refuses non-canonical bytes and non-objects (BUNDLE_MALFORMED)', () => {
    const pretty = utf8(JSON.stringify(base(), null, 1));
    expect(() => parseManifest(pretty)).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
    expect(() => parseManifest(utf8('[1]'))).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });

  it('reports another format version as BUNDLE_VERSION_UNSUPPORTED, a missing one as BUNDLE_MALFORMED', () => {
    expect(codeFor((m) => (m.formatVersion = 2))).toBe('BUNDLE_VERSION_UNSUPPORTED');
    expect(codeFor((m) => delete m.formatVersion)).toBe('BUNDLE_MALFORMED');
    expect(codeFor((m) => (m.formatVersion = '1'))).toBe('BUNDLE_MALFORMED');
  });

  it.each<[string, (m: any) => void]>([
    ['missing model', (m) => delete m.model],
    ['unknown top-level field', (m) => (m.surprise = 1)],
    ['unknown nested field', (m) => (m.model.extra = 'x')],
    ['bad semver', (m) => (m.model.version = '1.0')],
    ['zero sequence', (m) => (m.model.sequence = 0)],
    ['fractional sequence', (m) => (m.model.sequence = 1.5)],
    ['sequence beyond 2^53', (m) => (m.model.sequence = 2 ** 60)],
    ['bad name', (m) => (m.model.name = 'a b')],
    ['local-time timestamp', (m) => (m.createdAt = '2029-01-01T00:00:00')],
    ['impossible date', (m) => (m.createdAt = '2029-02-30T00:00:00.000Z')],
    ['upper-case digest', (m) => (m.files[0].sha256 = m.files[0].sha256.toUpperCase())],
    ['zero-size file', (m) => (m.files[0].size = 0)],
    ['no files', (m) => (m.files = [])],
    ['file without chunks', (m) => (m.files[0].chunks = [])],
    ['bad dtype', (m) => (m.signature.inputs[0].dtype = 'float128')],
    ['negative tolerance', (m) => (m.selfTests[0].tolerance.abs = -1)],
    ['negative frequency', (m) => (m.referenceProfile.features[0].frequencies = [-0.25, 1.25])],
    ['path not a string', (m) => (m.files[0].path = 7)],
  ])('refuses %s with BUNDLE_MALFORMED (schema)', (_name, mutate) => {
    expect(codeFor(mutate)).toBe('BUNDLE_MALFORMED');
  });

  it.each<[string, (m: any) => void, Parameters<typeof withLimits>[0]]>([
    ['file over maxFileBytes', (m) => (m.files[0].size = 2 ** 40), {}],
    ['total over maxTotalBytes', () => {}, { maxTotalBytes: 1000 }],
    ['too many files', () => {}, { maxFiles: 1 }],
    ['too many chunk references', () => {}, { maxChunks: 3 }],
    ['chunk over maxChunkBytes', () => {}, { maxChunkBytes: 100 }],
  ])('refuses %s with BUNDLE_TOO_LARGE before any cross-field check', (_name, mutate, limits) => {
    expect(codeFor(mutate, withLimits(limits))).toBe('BUNDLE_TOO_LARGE');
  });

  it.each(['../x', '/abs', 'a\\b', '', 'con'])('refuses payload path %j with BUNDLE_PATH_INVALID', (path) => {
    expect(codeFor((m) => (m.files[1].path = path))).toBe('BUNDLE_PATH_INVALID');
  });

  it('refuses colliding payload paths with BUNDLE_PATH_INVALID', () => {
    expect(codeFor((m) => (m.files[1].path = 'MODEL.onnx'))).toBe('BUNDLE_PATH_INVALID');
  });

  it.each<[string, (m: any) => void]>([
    ['chunk gap', (m) => (m.files[0].chunks[1].offset += 1)],
    ['size disagreeing with chunks', (m) => (m.files[0].size += 1)],
    ['one digest with two lengths', (m) => (m.files[1].chunks[0].digest = m.files[0].chunks[0].digest)],
    ['model.file naming no file', (m) => (m.model.file = 'other.onnx')],
    ['expiry before creation', (m) => (m.expiresAt = '2028-01-01T00:00:00.000Z')],
    ['chunking min > avg', (m) => (m.chunking.minSize = 100000)],
    ['edges not increasing', (m) => (m.referenceProfile.features[0].edges = [0, 2, 1])],
    ['frequencies not summing to 1', (m) => (m.referenceProfile.features[0].frequencies = [0.25, 0.5])],
    ['frequency count not bins', (m) => (m.referenceProfile.features[0].frequencies = [1])],
    ['profile input naming no tensor', (m) => (m.referenceProfile.features[0].input = 'nope')],
    ['self-test naming no tensor', (m) => (m.selfTests[0].expected = { z: [1] })],
    ['self-test missing an input', (m) => (m.selfTests[0].inputs = {})],
    ['self-test of the wrong element count', (m) => (m.selfTests[0].inputs.x = [1, 2, 3])],
  ])('refuses %s with BUNDLE_MALFORMED (consistency)', (_name, mutate) => {
    expect(codeFor(mutate)).toBe('BUNDLE_MALFORMED');
  });

  it('refuses a __proto__ key as an unknown field (no prototype games)', () => {
    const text = new TextDecoder().decode(canonicalJsonBytes(base()));
    expect(() => parseManifest(utf8(`{"__proto__":{"formatVersion":1},${text.slice(1)}`))).toThrow(
      expect.objectContaining({ code: 'BUNDLE_MALFORMED' }),
    );
  });

  it('allows dynamic dimensions of any length and extension fields', () => {
    expect(codeFor((m) => (m.selfTests[0].expected.y = [1, 2, 3, 4]))).toBe('ok');
    expect(codeFor((m) => (m.extensions = { vendor: { anything: [1, 'two'] } }))).toBe('ok');
  });
});
