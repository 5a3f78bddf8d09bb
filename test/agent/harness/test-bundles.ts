// Signed test bundles of the classifier: good, failing its self-test, expired, signed by a rogue key, older.
import { encodeEnvelope } from '@flotilla/firmware-bundler/wire';
import { packBundle, sha256Hex, type PackInput, type Signer } from '@flotilla/firmware-bundler';
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import { trustedSigner } from './test-keys.ts';
import { classifierModel, referenceOutputs, sampleRow, type ClassifierSpec } from './test-models.ts';

/** A packed bundle with what a server would publish about it. */
export interface TestBundle {
  /** The bundle file (container bytes), for `agent.install`. */
  bytes: Uint8Array;
  /** Envelope bytes and the chunks, by digest: what the harness serves [WIRE-2.7]. */
  blobs: Map<string, Uint8Array>;
  /** The desired-state reference [WIRE-2.2]; `id` is the bundle file's sha256, as the server names it [WIRE-3.1]. */
  ref: BundleRef;
  model: Uint8Array;
  version: string;
  sequence: number;
}

/** Options of {@link makeBundle}. */
export interface MakeBundleOptions {
  version: string;
  sequence: number;
  model?: ClassifierSpec;
  /** 'pass' (default): expected outputs from the model itself; 'fail': expected outputs of another model. */
  selfTest?: 'pass' | 'fail' | 'none';
  signer?: Signer;
  /** Default: a year from now. */
  expiresAt?: Date;
  createdAt?: Date;
  /** Extra manifest fields (preprocessing, referenceProfile, labels, runtime …). */
  extra?: Partial<PackInput>;
  /** Chunk size; small so a few-KB model has many chunks to reuse. Default 256. */
  avgChunkSize?: number;
}

/** Packs the classifier of `o.model` into a signed bundle with a self-test vector. */
export async function makeBundle(o: MakeBundleOptions): Promise<TestBundle> {
  const spec = { inputs: 16, ...o.model };
  const model = classifierModel(spec);
  const row = sampleRow(spec.inputs);
  const truth = await referenceOutputs(model, row, spec.inputName);
  const expected = o.selfTest === 'fail' ? truth.map((v, i) => (i === 0 ? v + 0.5 : v)) : truth;
  const inputName = spec.inputName ?? 'x';
  const packed = await packBundle(
    {
      name: 'classifier',
      version: o.version,
      sequence: o.sequence,
      files: [{ path: 'model.onnx', bytes: model, mediaType: 'application/onnx' }],
      signature: {
        inputs: [{ name: inputName, dtype: 'float32', shape: [null, spec.inputs] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [null, spec.classes ?? 3] }],
      },
      labels: ['cat', 'dog', 'bird'].slice(0, spec.classes ?? 3),
      selfTests:
        o.selfTest === 'none'
          ? undefined
          : [{ name: 'row-42', inputs: { [inputName]: row }, expected: { y: expected }, tolerance: { abs: 1e-4 } }],
      runtime: { minAgentVersion: '0.1.0', opset: 13, executionProviders: ['cpu', 'wasm'] },
      createdAt: o.createdAt,
      expiresAt: o.expiresAt,
      avgChunkSize: o.avgChunkSize ?? 256,
      ...o.extra,
    },
    o.signer ?? trustedSigner,
  );
  const envelope = encodeEnvelope(packed.manifestBytes, packed.signatures);
  const blobs = new Map<string, Uint8Array>([[sha256Hex(envelope), envelope]]);
  for (const c of packed.chunks) blobs.set(c.digest, c.bytes);
  return {
    bytes: packed.bytes,
    blobs,
    ref: {
      id: sha256Hex(packed.bytes),
      model: 'classifier',
      version: o.version,
      sequence: o.sequence,
      manifestDigest: sha256Hex(envelope),
      bytes: packed.bytes.length,
    },
    model,
    version: o.version,
    sequence: o.sequence,
  };
}
