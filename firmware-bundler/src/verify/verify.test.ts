// Verification order and device policy: signature first, then manifest, policy, chunks, files (SPEC §10).
import { describe, expect, it } from 'vitest';
import { openBundle } from './open-bundle.ts';
import { verifyManifest } from './verify-manifest.ts';
import { checkPolicy } from './policy.ts';
import { frameRawManifest, makeTestBundle, testKeyPair, testSigner, TEST_NOW } from '../testing/bundle-fixtures.ts';
import { encodeBundle } from '../container/encode-bundle.ts';
import { readBundleManifest } from '../container/decode-bundle.ts';
import { signManifest } from '../keys/manifest-signature.ts';
import { utf8 } from '../bytes.ts';
import type { BundleErrorCode } from '../errors.ts';

const trusted = [testKeyPair('primary').publicKey];
const packed = await makeTestBundle();
const opts = { now: TEST_NOW };

async function codeOf(fn: () => unknown): Promise<BundleErrorCode | 'ok'> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return (e as { code: BundleErrorCode }).code;
  }
}

describe('openBundle [SPEC §10.3]', () => {
  it('returns the manifest, key ids and payload files of a valid bundle', () => {
    const opened = openBundle(packed.bytes, trusted, opts);
    expect(opened.keyIds).toEqual([testKeyPair('primary').keyId]);
    expect(opened.manifestDigest).toBe(packed.manifestDigest);
    expect([...opened.files.keys()]).toEqual(['model.onnx', 'assets/extra.bin']);
  });

  it('checks the signature before parsing: unsigned garbage is untrusted or invalid, never malformed', async () => {
    const garbage = utf8('this is not JSON at all');
    const bySomeoneElse = encodeBundle({
      manifestBytes: garbage,
      signatures: await signManifest(garbage, [testSigner('mallory')]),
      chunks: [],
    });
    expect(await codeOf(() => openBundle(bySomeoneElse, trusted, opts))).toBe('BUNDLE_KEY_UNTRUSTED');
    const claimedTrusted = encodeBundle({
      manifestBytes: garbage,
      signatures: [{ keyId: testKeyPair('primary').keyId, signature: new Uint8Array(64) }],
      chunks: [],
    });
    expect(await codeOf(() => openBundle(claimedTrusted, trusted, opts))).toBe('BUNDLE_SIGNATURE_INVALID');
  });

  it('refuses a signed manifest whose chunk table is reordered (BUNDLE_MALFORMED)', () => {
    const chunks = [...packed.chunks].reverse();
    const bytes = encodeBundle({ manifestBytes: packed.manifestBytes, signatures: packed.signatures, chunks });
    expect(() => openBundle(bytes, trusted, opts)).toThrow(expect.objectContaining({ code: 'BUNDLE_MALFORMED' }));
  });

  it('refuses a chunk whose bytes do not match its digest (BUNDLE_CHUNK_CORRUPT)', () => {
    const chunks = packed.chunks.map((c, i) => (i === 1 ? { digest: c.digest, bytes: c.bytes.map((b) => b ^ 1) } : c));
    const bytes = encodeBundle({ manifestBytes: packed.manifestBytes, signatures: packed.signatures, chunks });
    expect(() => openBundle(bytes, trusted, opts)).toThrow(expect.objectContaining({ code: 'BUNDLE_CHUNK_CORRUPT' }));
  });

  it('refuses a signed manifest whose file digest is wrong (BUNDLE_FILE_CORRUPT)', async () => {
    const m = structuredClone(packed.manifest);
    m.files[0]!.sha256 = '0'.repeat(64);
    const bytes = await frameRawManifest(m, packed.chunks, [testSigner('primary')]);
    expect(await codeOf(() => openBundle(bytes, trusted, opts))).toBe('BUNDLE_FILE_CORRUPT');
  });
});

describe('verifyManifest on the head alone [SPEC §10.1]', () => {
  it('verifies before any chunk is fetched', () => {
    const head = readBundleManifest(packed.bytes);
    const v = verifyManifest(head.manifestBytes, head.signatures, trusted, { now: TEST_NOW, installedSequence: 4, agentVersion: '1.0.0' });
    expect(v.manifest.model.sequence).toBe(5);
  });
});

describe('device policy [SPEC §10.2]', () => {
  const m = packed.manifest;
  const expiry = Date.parse(m.expiresAt);

  it('R1: BUNDLE_EXPIRED strictly after expiresAt', async () => {
    expect(await codeOf(() => checkPolicy(m, { now: expiry }))).toBe('ok');
    expect(await codeOf(() => checkPolicy(m, { now: new Date(expiry + 1) }))).toBe('BUNDLE_EXPIRED');
    expect(await codeOf(() => openBundle(packed.bytes, trusted, { now: expiry + 1 }))).toBe('BUNDLE_EXPIRED');
  });

  it('R2: installedSequence refuses equal and older; minSequence is an inclusive floor for re-installs', async () => {
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, installedSequence: 4 }))).toBe('ok');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, installedSequence: 5 }))).toBe('BUNDLE_ROLLBACK');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, installedSequence: 9 }))).toBe('BUNDLE_ROLLBACK');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, minSequence: 5 }))).toBe('ok');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, minSequence: 6 }))).toBe('BUNDLE_ROLLBACK');
  });

  it('R3: agent version, opset and execution providers give BUNDLE_RUNTIME_INCOMPATIBLE', async () => {
    expect(
      await codeOf(() => checkPolicy(m, { now: TEST_NOW, agentVersion: '1.0.0', maxOpset: 13, executionProviders: ['cuda', 'cpu'] })),
    ).toBe('ok');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, agentVersion: '0.9.9' }))).toBe('BUNDLE_RUNTIME_INCOMPATIBLE');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, agentVersion: '1.0.0-rc.1' }))).toBe('BUNDLE_RUNTIME_INCOMPATIBLE');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, maxOpset: 12 }))).toBe('BUNDLE_RUNTIME_INCOMPATIBLE');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, executionProviders: ['webgpu'] }))).toBe('BUNDLE_RUNTIME_INCOMPATIBLE');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, agentVersion: 'latest' }))).toBe('BUNDLE_INPUT_INVALID');
  });

  it('applies R1 before R2 before R3', async () => {
    expect(await codeOf(() => checkPolicy(m, { now: expiry + 1, installedSequence: 9, agentVersion: '0.1.0' }))).toBe('BUNDLE_EXPIRED');
    expect(await codeOf(() => checkPolicy(m, { now: TEST_NOW, installedSequence: 9, agentVersion: '0.1.0' }))).toBe('BUNDLE_ROLLBACK');
  });
});
