// The golden fixtures, built deterministically: a test-only key, a tiny real ONNX model, two bundle versions.
import {
  createEd25519Signer,
  encodePublicKeyFile,
  encodeSecretKeyFile,
  generateKeyPair,
  packBundle,
  sha256Hex,
  utf8,
  type PackInput,
} from '../src/index.ts';
import { tinyOnnxLogits, tinyOnnxModel, TINY_BIAS } from './tiny-onnx.ts';

/** Seed of the committed TEST-ONLY signing key. Anyone can derive it: never trust it in production. */
export const GOLDEN_KEY_SEED_TEXT = 'flotilla golden test key: NOT FOR PRODUCTION';

/** Fixed creation time, so regeneration is byte-identical (Ed25519 signatures are deterministic). */
export const GOLDEN_CREATED_AT = '2025-01-01T00:00:00.000Z';
export const GOLDEN_EXPIRES_AT = '2099-12-31T23:59:59.000Z';

/** Bias of version 2: only the last layer changes, as after retraining the head. */
export const GOLDEN_V2_BIAS = [0.2, -0.1, 0.05];

const SELF_TEST_INPUTS = [
  [0.5, -1, 2, 0.25],
  [0, 0, 0, 0],
];

function goldenInput(version: string, sequence: number, bias: number[]): PackInput {
  const labels = ['idle', 'walk', 'run'];
  return {
    name: 'golden-sensor',
    version,
    sequence,
    files: [
      { path: 'model.onnx', bytes: tinyOnnxModel(bias), mediaType: 'application/onnx' },
      { path: 'labels.txt', bytes: utf8(`${labels.join('\n')}\n`), mediaType: 'text/plain' },
    ],
    modelFile: 'model.onnx',
    createdAt: GOLDEN_CREATED_AT,
    expiresAt: GOLDEN_EXPIRES_AT,
    avgChunkSize: 256,
    lineage: { datasetDigest: sha256Hex(utf8('golden dataset')), runId: `golden-run-${sequence}`, codeVersion: 'golden' },
    signature: {
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 3] }],
    },
    preprocessing: { steps: [{ op: 'standardize', input: 'input', params: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] } }] },
    labels,
    quantization: { scheme: 'none' },
    referenceProfile: {
      features: [0, 1, 2, 3].map((index) => ({
        name: `f${index}`,
        input: 'input',
        index,
        edges: [-2, -1, 0, 1, 2],
        frequencies: [0.125, 0.375, 0.375, 0.125],
        count: 1000,
      })),
    },
    selfTests: SELF_TEST_INPUTS.map((x, i) => ({
      name: `vector-${i}`,
      inputs: { input: x },
      expected: { logits: tinyOnnxLogits(x, bias) },
      tolerance: { abs: 1e-4, rel: 1e-4 },
    })),
    runtime: { minAgentVersion: '0.1.0', opset: 13, executionProviders: ['cpu'] },
  };
}

/** Every fixture file by name (relative to test/fixtures/bundles/), as bytes. */
export async function buildGoldenFixtures(): Promise<Record<string, Uint8Array>> {
  const pair = generateKeyPair(sha256Bytes(GOLDEN_KEY_SEED_TEXT));
  const signer = createEd25519Signer(pair.secretKey);
  const v1 = await packBundle(goldenInput('1.0.0', 1, TINY_BIAS), signer);
  const v2 = await packBundle(goldenInput('1.1.0', 2, GOLDEN_V2_BIAS), signer);
  return {
    'golden.fbundle': v1.bytes,
    'golden-v2.fbundle': v2.bytes,
    'model.onnx': tinyOnnxModel(TINY_BIAS),
    'test-signing.key': utf8(encodeSecretKeyFile(pair)),
    'test-signing.pub': utf8(encodePublicKeyFile(pair.publicKey)),
    'golden.manifest.json': utf8(`${JSON.stringify(v1.manifest, null, 2)}\n`),
    'golden.digests.json': utf8(
      `${JSON.stringify({ keyId: pair.keyId, 'golden.fbundle': v1.manifestDigest, 'golden-v2.fbundle': v2.manifestDigest }, null, 2)}\n`,
    ),
  };
}

function sha256Bytes(text: string): Uint8Array {
  return Uint8Array.from(
    sha256Hex(utf8(text))
      .match(/../g)!
      .map((h) => parseInt(h, 16)),
  );
}
