// Conversion in the registry: export a trained version to ONNX and int8, import ONNX models made elsewhere,
// quantize them; every int8 model's report and gate verdict is stored with its registry version.
import { ConversionError } from './conversion-error.ts';
import type { BlobStore } from '../blob/blob-store.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { inspectOnnx } from '../convert/index.ts';
import { runWorkerJob } from '../workers/worker-job.ts';
import { computeEvidence, type ImportEvidence, type ImportEvidenceInput, type ImportRecord } from './import-evidence.ts';
import { readNpy } from '../convert/npy.ts';
import { encodeNpy } from '../convert/npy-write.ts';
import { spreadRows } from '../monitoring/reference-from-rows.ts';
import type { ConversionJob, ConversionResult, QuantizeSettings, SampleSource } from './conversion-protocol.ts';

/** Largest ONNX file accepted for import (bytes). */
export const MAX_ONNX_IMPORT = 256 * 1024 * 1024;
/** Artifact name of an imported version's evidence (reference profile, labels, self-test rows, lineage). */
export const EVIDENCE = 'evidence.json';

export interface QuantizeOptions {
  quantize?: 'int8' | 'none';
  mode?: QuantizeSettings['mode'];
  method?: QuantizeSettings['method'];
  maxAccuracyDrop?: number;
  minTop1Agreement?: number;
  maxRelativeL2?: number;
  minCosine?: number;
  calibrationSamples?: number;
  /** Bundle even if the parity gate fails; the reason is recorded. */
  overrideReason?: string;
}

export interface ConversionOutcome {
  model: string;
  version: number;
  float: { digest: string; path: string | null; bytes: number; accuracy: number | null };
  int8: { digest: string; path: string | null; bytes: number; accuracy: number | null } | null;
  top1Agreement: number | null;
  gate: unknown;
  /** What int8 was compared with float on (quantize only): a test split, held-out inputs, or the calibration samples. */
  evaluatedOn?: string;
  report: unknown;
}

function describeEvaluation(source: string | { shape: number[] } | undefined, cal: SampleSource): string {
  if (typeof source === 'string') return `test split of dataset ${source}`;
  if (source) return `${source.shape[0]} held-out inline samples`;
  return cal.kind === 'dataset' ? 'test split of the calibration dataset' : 'the calibration samples themselves (no held-out inputs given)';
}

const ENTRY = new URL('./conversion-worker.ts', import.meta.url);

export class ConversionService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
  ) {}

  private settings(o: QuantizeOptions, actor: string): QuantizeSettings | null {
    if (o.quantize === 'none') return null;
    return {
      mode: o.mode ?? 'auto',
      method: o.method ?? 'auto',
      calibrationSamples: o.calibrationSamples ?? 512,
      gate: {
        maxAccuracyDrop: o.maxAccuracyDrop,
        minTop1Agreement: o.minTop1Agreement,
        maxRelativeL2: o.maxRelativeL2,
        minCosine: o.minCosine,
      },
      override: o.overrideReason ? { by: actor, reason: o.overrideReason } : undefined,
    };
  }

  private async datasetSource(digest: string, splitSeed: number): Promise<SampleSource> {
    const path = this.blobs.localPath(digest);
    if (!path || !(await this.blobs.has(digest)))
      throw new ConversionError('DATASET_MISSING', `dataset blob ${digest} is missing from the blob store`);
    return { kind: 'dataset', path, splitSeed };
  }

  private async blob(digest: string | undefined, what: string): Promise<Uint8Array> {
    const bytes = digest ? await this.blobs.get(digest) : null;
    if (!bytes) throw new ConversionError('ARTIFACT_MISSING', `${what} is missing from the blob store`);
    return bytes;
  }

  /** Exports a trained (tfjs) version to ONNX, quantizes it, and stores both with the report. */
  async exportVersion(ref: string, o: QuantizeOptions, actor: string): Promise<ConversionOutcome> {
    const v = await this.resolve(ref);
    if (v.format !== 'tfjs' || !v.runId)
      throw new ConversionError(
        'NOT_A_TFJS_MODEL',
        `${v.model}@${v.version} is an imported ${v.format} model: use quantize instead of export`,
      );
    const run = await this.store.runs.get(v.runId);
    if (!run) throw ConversionError.notFound('run', v.runId);
    const job: ConversionJob = {
      type: 'export',
      modelJson: new TextDecoder().decode(await this.blob(v.artifacts['model.json'], 'model.json')),
      weights: await this.blob(v.artifacts['weights.bin'], 'weights.bin'),
      samples: await this.datasetSource(run.datasetDigest, run.splitSeed),
      quantize: this.settings(o, actor),
    };
    return this.finish(v, await runWorkerJob<ConversionResult>(ENTRY, job), actor, { source: 'export', dataset: run.datasetDigest });
  }

  /** Quantizes an (imported or exported) ONNX version with calibration from a dataset or inline samples. */
  async quantizeVersion(
    ref: string,
    calibration: { dataset?: string; data?: Float32Array; shape?: number[] },
    evaluationSource: string | { data: Float32Array; shape: number[] } | undefined,
    o: QuantizeOptions,
    actor: string,
  ): Promise<ConversionOutcome> {
    const v = await this.resolve(ref);
    const onnx = await this.blob(v.artifacts['model.onnx'], 'model.onnx (export the version first)');
    const settings = this.settings({ ...o, quantize: 'int8' }, actor)!;
    const fromDataset = async (name: string) => {
      const ds = await this.store.datasets.resolve(name);
      if (!ds) throw ConversionError.notFound('dataset', name);
      return this.datasetSource(ds.digest, 42);
    };
    let cal: SampleSource;
    if (calibration.dataset) cal = await fromDataset(calibration.dataset);
    else if (calibration.data && calibration.shape) cal = { kind: 'inline', data: calibration.data, shape: calibration.shape };
    else throw new ConversionError('CALIBRATION_REQUIRED', 'give calibration samples: a dataset name, or a .npy/JSON file of inputs');
    // Held-out inputs of their own (a dataset's test split or inline samples); inline calibration without them
    // is evaluated on itself, which the report's `evaluation` field says.
    const evaluation: SampleSource | null =
      typeof evaluationSource === 'string'
        ? await fromDataset(evaluationSource)
        : evaluationSource
          ? { kind: 'inline', data: evaluationSource.data, shape: evaluationSource.shape }
          : cal.kind === 'dataset'
            ? cal
            : null;
    const job: ConversionJob = { type: 'quantize', onnx, calibration: cal, evaluation, settings };
    return this.finish(v, await runWorkerJob<ConversionResult>(ENTRY, job), actor, {
      source: 'quantize',
      calibration: calibration.dataset ?? 'inline samples',
      evaluation: describeEvaluation(evaluationSource, cal),
    });
  }

  /**
   * Registers an ONNX model made elsewhere after onnxruntime loads it; records its signature. With `evidence`
   * (a reference set, labels, held-out rows, lineage) the evidence is validated and computed first, so a bad
   * reference set registers nothing; the version then carries `evidence.json` and `metrics.import`.
   */
  async importOnnx(
    bytes: Uint8Array,
    name: string,
    description: string,
    actor: string,
    evidence?: ImportEvidenceInput,
    source: ImportRecord['source'] = 'import',
  ): Promise<ModelVersion> {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(name))
      throw new ConversionError('INVALID_MODEL_NAME', `model name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
    if (bytes.byteLength > MAX_ONNX_IMPORT)
      throw new ConversionError('PAYLOAD_TOO_LARGE', `ONNX imports are limited to ${MAX_ONNX_IMPORT} bytes`);
    const info = await inspectOnnx(bytes);
    const record: ImportRecord = { source, digest: info.digest, importedBy: actor, importedAt: new Date().toISOString(), lineage: null };
    const ev = evidence ? await computeEvidence(bytes, info.signature, evidence, record) : null;
    const blob = await this.blobs.put(bytes);
    if (ev && evidence) {
      // The reference rows themselves (float32, at most PROFILE_ROWS of them, spread): a retrain by an outside
      // trainer profiles the cohorts that sent no field data on what this model's fleet sent before (issue 17).
      const r = readNpy(evidence.reference);
      const rows = spreadRows({ x: r.data, n: r.shape[0]!, featureShape: r.shape.slice(1) });
      ev.referenceRows = (await this.blobs.put(encodeNpy(rows.x, [rows.n, ...rows.featureShape]))).digest;
    }
    const evBlob = ev ? await this.blobs.put(new TextEncoder().encode(JSON.stringify(ev))) : null;
    const v = await this.store.models.addVersion({
      model: name,
      runId: null,
      format: 'onnx',
      artifacts: { 'model.onnx': blob.digest, ...(evBlob ? { [EVIDENCE]: evBlob.digest } : {}) },
      signature: info.signature,
      metrics: {
        opset: info.opset,
        irVersion: info.irVersion,
        producer: info.producer,
        ops: info.ops,
        quantized: info.quantized,
        import: ev?.record ?? record,
        ...(ev?.reference.evalAccuracy !== undefined ? { accuracy: ev.reference.evalAccuracy } : {}),
        ...(ev ? { referenceRows: ev.reference.rows, labels: ev.labels } : {}),
      },
      quantization: null,
      tags: [source === 'trainer' ? 'trained-outside' : 'imported'],
      description,
    });
    await this.store.audit.record({
      actor,
      action: 'model.import',
      subject: `${name}@${v.version}`,
      detail: { digest: blob.digest, bytes: blob.bytes, source, evidence: evBlob?.digest ?? null },
    });
    return v;
  }

  /** The evidence recorded with an imported version, or null when it came without a reference set. */
  async evidence(v: ModelVersion): Promise<ImportEvidence | null> {
    const digest = v.artifacts[EVIDENCE];
    const bytes = digest ? await this.blobs.get(digest) : null;
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as ImportEvidence) : null;
  }

  private async resolve(ref: string): Promise<ModelVersion> {
    const v = await this.store.models.resolve(ref);
    if (!v) throw ConversionError.notFound('model version', ref);
    return v;
  }

  private async finish(v: ModelVersion, r: ConversionResult, actor: string, detail: Record<string, unknown>): Promise<ConversionOutcome> {
    if (!r.ok) throw new ConversionError(r.code, r.message);
    const float = await this.blobs.put(r.floatOnnx);
    const int8 = r.int8Onnx ? await this.blobs.put(r.int8Onnx) : null;
    const report = r.report as (Record<string, any> & { parity: any; gate: any }) | null;
    const artifacts: Record<string, string> = { 'model.onnx': float.digest, ...(int8 ? { 'model.int8.onnx': int8.digest } : {}) };
    const evaluatedOn = typeof detail.evaluation === 'string' ? { evaluatedOn: detail.evaluation } : {};
    const quantization = {
      ...(report ?? {}),
      ...evaluatedOn,
      opset: r.opset,
      signature: r.signature,
      floatDigest: float.digest,
      int8Digest: int8?.digest ?? null,
      createdAt: new Date().toISOString(),
      createdBy: actor,
    };
    await this.store.models.setQuantization(v.model, v.version, quantization, artifacts);
    await this.store.audit.record({
      actor,
      action: int8 ? 'model.quantize' : 'model.export',
      subject: `${v.model}@${v.version}`,
      detail: { ...detail, gate: report?.gate ?? null },
    });
    return {
      model: v.model,
      version: v.version,
      float: { digest: float.digest, path: this.blobs.localPath(float.digest), bytes: float.bytes, accuracy: r.floatAccuracy },
      int8: int8
        ? {
            digest: int8.digest,
            path: this.blobs.localPath(int8.digest),
            bytes: int8.bytes,
            accuracy: report?.parity?.int8?.accuracy ?? null,
          }
        : null,
      top1Agreement: report?.parity?.top1Agreement ?? null,
      gate: report?.gate ?? null,
      ...evaluatedOn,
      report,
    };
  }
}
