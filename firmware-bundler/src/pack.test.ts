// Packing: round trip to identical bytes, determinism, deduplication, input checks (SPEC §11).
import { describe, expect, it } from 'vitest';
import { buildManifest, DEFAULT_EXPIRES_IN_SECONDS, packBundle } from './pack.ts';
import { openBundle } from './verify/open-bundle.ts';
import { makeTestBundle, pseudoRandomBytes, testKeyPair, testPackInput, testSigner, TEST_NOW } from './testing/bundle-fixtures.ts';
import { bytesEqual } from './bytes.ts';
import { uniqueChunks } from './manifest/chunk-index.ts';
import type { BundleErrorCode } from './errors.ts';

describe('packBundle [SPEC §11]', () => {
  it('round-trips: opening the bundle gives back byte-identical files', async () => {
    const input = testPackInput({
      files: [
        { path: 'model.onnx', bytes: pseudoRandomBytes(200_000, 8) },
        { path: 'one-byte', bytes: Uint8Array.of(7) },
      ],
      avgChunkSize: 1024,
    });
    const packed = await packBundle(input, testSigner('primary'));
    const opened = openBundle(packed.bytes, [testKeyPair('primary').publicKey], { now: TEST_NOW });
    for (const f of input.files) expect(bytesEqual(opened.files.get(f.path)!, f.bytes)).toBe(true);
  });

  it('is deterministic: the same input and key give the same bytes', async () => {
    expect(bytesEqual((await makeTestBundle()).bytes, (await makeTestBundle()).bytes)).toBe(true);
  });

  it('stores a chunk shared by two files once', async () => {
    const packed = await makeTestBundle();
    const refs = packed.manifest.files.flatMap((f) => f.chunks.map((c) => c.digest));
    expect(new Set(refs).size).toBeLessThan(refs.length);
    expect(packed.chunks.map((c) => c.digest)).toEqual(uniqueChunks(packed.manifest).map((c) => c.digest));
  });

  it('signs with several keys, in order', async () => {
    const packed = await makeTestBundle({}, [testSigner('old'), testSigner('new')]);
    expect(packed.signatures.map((s) => s.keyId)).toEqual([testKeyPair('old').keyId, testKeyPair('new').keyId]);
  });

  it('defaults expiry to createdAt + 365 days and the model file to the first file', () => {
    const { manifest } = buildManifest(testPackInput({ expiresAt: undefined }));
    expect(Date.parse(manifest.expiresAt) - Date.parse(manifest.createdAt)).toBe(DEFAULT_EXPIRES_IN_SECONDS * 1000);
    expect(manifest.model.file).toBe('model.onnx');
  });

  it.each<[string, Parameters<typeof testPackInput>[0], BundleErrorCode]>([
    ['bad version', { version: 'v1' }, 'BUNDLE_INPUT_INVALID'],
    ['zero sequence', { sequence: 0 }, 'BUNDLE_INPUT_INVALID'],
    ['no files', { files: [] }, 'BUNDLE_INPUT_INVALID'],
    ['empty file', { files: [{ path: 'model.onnx', bytes: new Uint8Array(0) }] }, 'BUNDLE_INPUT_INVALID'],
    ['bad name', { name: 'my model' }, 'BUNDLE_INPUT_INVALID'],
    ['bad time', { createdAt: 'yesterday' }, 'BUNDLE_INPUT_INVALID'],
    ['expiry before creation', { expiresAt: '2000-01-01T00:00:00.000Z' }, 'BUNDLE_INPUT_INVALID'],
    ['unknown model file', { modelFile: 'nope.onnx' }, 'BUNDLE_INPUT_INVALID'],
    ['bad chunk size', { avgChunkSize: 1000 }, 'BUNDLE_INPUT_INVALID'],
    [
      'NaN in a self-test',
      { selfTests: [{ name: 't', inputs: { x: [NaN] }, expected: {}, tolerance: { abs: 0 } }] },
      'BUNDLE_INPUT_INVALID',
    ],
    ['traversal path', { files: [{ path: '../model.onnx', bytes: Uint8Array.of(1) }] }, 'BUNDLE_PATH_INVALID'],
  ])('refuses %s with %s', async (_name, overrides, code) => {
    await expect(packBundle(testPackInput(overrides), testSigner('primary'))).rejects.toMatchObject({ code });
  });
});
