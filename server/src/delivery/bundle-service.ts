// Makes signed bundles from registered model versions: picks the ONNX artifact, assigns the next
// sequence number, packs and signs with the firmware-bundler library, and stores the bundle file,
// its envelope [WIRE-2.7] and every chunk as content-addressed blobs.
import { packBundle, TENSOR_DTYPES, type BundleManifest, type IoSignature, type PackInput } from '@flotilla/firmware-bundler';
import type { BlobStore } from '../blob/blob-store.ts';
import type { BundleRecord, ModelVersion } from '../store/entities.ts';
import { StoreError } from '../store/store-error.ts';
import type { Store } from '../store/store.ts';
import { defaultArtifact } from './artifact-choice.ts';
import { DeliveryError } from './delivery-error.ts';
import { encodeEnvelope } from './envelope.ts';
import type { SigningKey } from './signing-key.ts';

/** Manifest fields a caller may add to what the registry knows. */
export type ManifestExtras = Partial<
  Pick<PackInput, 'labels' | 'preprocessing' | 'selfTests' | 'referenceProfile' | 'runtime' | 'quantization' | 'signature' | 'extensions'>
>;

/** Computes manifest fields from the registry for a version and the artifact being shipped. */
export type BundleExtrasFn = (mv: ModelVersion, artifact: string) => Promise<ManifestExtras & { lineage?: PackInput['lineage'] }>;

export interface CreateBundleInput extends ManifestExtras {
  /** `name@version`, `name@alias` or `name` (latest). */
  model: string;
  /** Semantic version for the manifest. Default `<registry version>.0.0`. */
  version?: string;
  /** Artifact name to ship. Default `model.int8.onnx` when the version has one that is smaller and not slower than its float parent (artifact-choice.ts), else `model.onnx`. */
  artifact?: string;
  /** Lifetime in seconds. Default 365 days. */
  expiresInSeconds?: number;
  /** Average chunk size in bytes (power of two, 256..262144). Default 16384. */
  avgChunkSize?: number;
  /**
   * Execution providers the bundle allows, in preference order (e.g. `['cpu', 'webgpu']`). Default the
   * computed runtime's (`['cpu']`). An agent offered a GPU serves there only when its provider is listed.
   */
  executionProviders?: string[];
}

export class BundleService {
  /** One bundle at a time per model, so sequence numbers are handed out without gaps or clashes. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: {
      store: Store;
      blobs: BlobStore;
      keys: { active(): SigningKey; refresh?(): Promise<void> };
      extras?: BundleExtrasFn;
      onCreated?: (b: BundleRecord, manifest: BundleManifest) => Promise<void>;
    },
  ) {}

  async create(input: CreateBundleInput, actor: string): Promise<BundleRecord> {
    const mv = await this.deps.store.models.resolve(input.model);
    if (!mv) throw new DeliveryError('MODEL_VERSION_NOT_FOUND', `model version '${input.model}' is not registered`);
    return this.serialized(mv.model, () => this.pack(mv, input, actor));
  }

  get(idOrPrefix: string): Promise<BundleRecord | null> {
    return this.deps.store.bundles.get(idOrPrefix);
  }

  /** The signed manifest of a bundle, parsed from its envelope: signature, labels, preprocessing, self-tests. */
  async manifest(b: BundleRecord): Promise<BundleManifest> {
    const bytes = await this.deps.blobs.get(b.envelopeDigest);
    if (!bytes) throw new DeliveryError('BLOB_MISSING', `envelope ${b.envelopeDigest} of bundle ${b.id} is missing from the blob store`);
    const envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as { manifest: string };
    return JSON.parse(Buffer.from(envelope.manifest, 'base64').toString('utf8')) as BundleManifest;
  }

  list(filter: { model?: string; limit?: number } = {}): Promise<BundleRecord[]> {
    return this.deps.store.bundles.list(filter);
  }

  private async pack(mv: ModelVersion, input: CreateBundleInput, actor: string): Promise<BundleRecord> {
    const { store, blobs } = this.deps;
    // The active key when packing starts: a rotation meanwhile signs the next bundle, not half of this one.
    await this.deps.keys.refresh?.();
    const key = this.deps.keys.active();
    const artifact = input.artifact ?? defaultArtifact(mv).artifact;
    const digest = mv.artifacts[artifact];
    if (!digest) {
      throw new DeliveryError(
        'BUNDLE_ARTIFACT_MISSING',
        `${mv.model}@${mv.version} has no '${artifact}' artifact (it has: ${Object.keys(mv.artifacts).join(', ') || 'none'}); export it to ONNX first`,
      );
    }
    const bytes = await blobs.get(digest);
    if (!bytes)
      throw new DeliveryError('BLOB_MISSING', `artifact blob ${digest} of ${mv.model}@${mv.version} is missing from the blob store`);
    const computed = (await this.deps.extras?.(mv, artifact)) ?? {};
    const sequence = await store.bundles.nextSequence(mv.model);
    const packed = await packBundle(
      {
        name: mv.model,
        version: input.version ?? `${mv.version}.0.0`,
        sequence,
        files: [{ path: artifact, bytes, mediaType: 'application/onnx' }],
        modelFile: artifact,
        lineage: computed.lineage ?? (mv.runId ? { runId: mv.runId } : undefined),
        signature: input.signature ?? computed.signature ?? ioSignatureOf(mv.signature),
        labels: input.labels ?? computed.labels,
        preprocessing: input.preprocessing ?? computed.preprocessing,
        selfTests: input.selfTests ?? computed.selfTests,
        referenceProfile: input.referenceProfile ?? computed.referenceProfile,
        runtime: withProviders(input.runtime ?? computed.runtime, input.executionProviders),
        quantization: input.quantization ?? computed.quantization,
        expiresInSeconds: input.expiresInSeconds,
        avgChunkSize: input.avgChunkSize,
        // Computed extensions (the cohort profiles of a model retrained on field data) beside the registry's.
        extensions: { ...computed.extensions, registry: { model: mv.model, version: mv.version } },
      },
      key.signer,
    );
    // Chunks and envelope first, the bundle file last: a bundle id never names missing pieces.
    for (const c of packed.chunks) await blobs.put(c.bytes);
    const envelope = await blobs.put(encodeEnvelope(packed.manifestBytes, packed.signatures));
    const file = await blobs.put(packed.bytes);
    const record: BundleRecord = {
      id: file.digest,
      model: mv.model,
      modelVersion: mv.version,
      version: packed.manifest.model.version,
      sequence,
      manifestDigest: packed.manifestDigest,
      envelopeDigest: envelope.digest,
      keyId: key.keyId,
      chunkDigests: packed.chunks.map((c) => c.digest),
      bytes: file.bytes,
      payloadBytes: packed.manifest.files.reduce((n, f) => n + f.size, 0),
      artifact,
      createdAt: new Date().toISOString(),
      createdBy: actor,
    };
    try {
      await store.bundles.create(record);
    } catch (e) {
      // The same bytes twice (same model, sequence and time) cannot happen with a fresh sequence; anything else is real.
      if (e instanceof StoreError && e.code === 'BUNDLE_EXISTS') return (await store.bundles.get(record.id))!;
      throw e;
    }
    await this.deps.onCreated?.(record, packed.manifest);
    await store.audit.record({
      actor,
      action: 'bundle.create',
      subject: record.id,
      detail: { model: mv.model, version: mv.version, sequence },
    });
    return record;
  }

  private async serialized<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(model) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(model, settled);
    void settled.then(() => {
      if (this.locks.get(model) === settled) this.locks.delete(model);
    });
    return next;
  }
}

/** The registry's signature when it has the manifest's shape (inputs/outputs of name, dtype, shape). */
function ioSignatureOf(sig: unknown): IoSignature | undefined {
  const ok = (t: unknown) => {
    const x = t as { name?: unknown; dtype?: unknown; shape?: unknown };
    return (
      typeof x?.name === 'string' &&
      (TENSOR_DTYPES as readonly unknown[]).includes(x.dtype) &&
      Array.isArray(x.shape) &&
      x.shape.every((d) => d === null || (Number.isInteger(d) && (d as number) >= 0))
    );
  };
  const s = sig as { inputs?: unknown; outputs?: unknown } | null;
  if (!s || !Array.isArray(s.inputs) || !Array.isArray(s.outputs) || !s.inputs.every(ok) || !s.outputs.every(ok)) return undefined;
  return { inputs: s.inputs, outputs: s.outputs } as IoSignature;
}

/** `runtime` with its providers replaced by `providers` when given (the rest of the requirements kept). */
function withProviders(runtime: ManifestExtras['runtime'], providers: string[] | undefined): ManifestExtras['runtime'] {
  if (!providers) return runtime;
  return { ...runtime, executionProviders: providers };
}
