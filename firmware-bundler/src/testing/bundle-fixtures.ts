// Test helpers shared by this package's tests and by server and agent tests: deterministic keys and bundles.
import { sha256Bytes, utf8 } from '../bytes.ts';
import { canonicalJsonBytes } from '../canonical-json.ts';
import { mulberry32 } from '../chunking/gear-table.ts';
import { createEd25519Signer, generateKeyPair, type KeyPair } from '../keys/ed25519.ts';
import { signManifest } from '../keys/manifest-signature.ts';
import type { Signer } from '../keys/signer.ts';
import { encodeBundle, type ContainerChunk } from '../container/encode-bundle.ts';
import { packBundle, type PackedBundle, type PackInput } from '../pack.ts';

/** A fixed clock for tests: 2030-01-01T00:00:00.000Z, in ms since the epoch. */
export const TEST_NOW = Date.parse('2030-01-01T00:00:00.000Z');

/** A deterministic TEST-ONLY key pair derived from `label`. */
export function testKeyPair(label: string): KeyPair {
  return generateKeyPair(sha256Bytes(utf8(`flotilla test key: ${label}`)));
}

/** A signer for {@link testKeyPair}(label). */
export function testSigner(label: string): Signer {
  return createEd25519Signer(testKeyPair(label).secretKey);
}

/** `length` pseudo-random bytes from mulberry32(seed): the same on every run and platform. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const next = mulberry32(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const v = next();
    for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return out;
}

/** A small valid pack input (two files sharing a chunk-sized run of bytes), overridable field by field. */
export function testPackInput(overrides: Partial<PackInput> = {}): PackInput {
  const shared = pseudoRandomBytes(600, 99);
  const model = new Uint8Array(2400);
  model.set(pseudoRandomBytes(1800, 1));
  model.set(shared, 1800);
  const extra = new Uint8Array(900);
  extra.set(shared);
  extra.set(pseudoRandomBytes(300, 2), 600);
  return {
    name: 'test-model',
    version: '1.2.3',
    sequence: 5,
    files: [
      { path: 'model.onnx', bytes: model },
      { path: 'assets/extra.bin', bytes: extra },
    ],
    createdAt: '2029-01-01T00:00:00.000Z',
    expiresAt: '2031-01-01T00:00:00.000Z',
    avgChunkSize: 256,
    runtime: { minAgentVersion: '1.0.0', opset: 13, executionProviders: ['cpu'] },
    ...overrides,
  };
}

/** Packs {@link testPackInput} with the `primary` test key (or the given signers). */
export async function makeTestBundle(
  overrides: Partial<PackInput> = {},
  signers: Signer | Signer[] = testSigner('primary'),
): Promise<PackedBundle> {
  return packBundle(testPackInput(overrides), signers);
}

/**
 * Signs and frames an arbitrary manifest object with no checks at all, to build hostile bundles
 * whose signature is nevertheless valid.
 */
export async function frameRawManifest(
  manifest: unknown,
  chunks: readonly ContainerChunk[],
  signers: readonly Signer[],
): Promise<Uint8Array> {
  const manifestBytes = canonicalJsonBytes(manifest);
  return encodeBundle({ manifestBytes, signatures: await signManifest(manifestBytes, signers), chunks });
}
