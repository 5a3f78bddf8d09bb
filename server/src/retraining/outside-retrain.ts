// The outside trainer's half of a retrain: write the field dataset version for it (rows and labels as .npy,
// CSV for small rows, the held-out split, a manifest with signature, labels, lineage, and download URLs with a
// job-scoped token when this process serves HTTP: trainer-files.ts), run it, check what it
// returns (an ONNX model onnxruntime loads, with the champion's signature), and register it through the same
// import as an operator's, the field rows as its reference set. A failure registers nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConversionService } from '../conversion/conversion-service.ts';
import { ConvertError, inspectOnnx, type ModelSignature, type TensorSignature } from '../convert/index.ts';
import { encodeNpy } from '../convert/npy-write.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { spreadRows } from '../monitoring/reference-from-rows.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { FieldDataset } from './field-dataset.ts';
import { runOutsideTrainer, type TrainerJob } from './outside-trainer.ts';
import { RetrainingError } from './retraining-error.ts';
import type { OutsideTrainer } from './retraining-policy.ts';
import type { TrainerFile, TrainerFileShelf } from './trainer-files.ts';

/** Rows per sample up to which the training rows are also written as CSV (wider rows, images, stay .npy only). */
const CSV_MAX_FEATURES = 256;

export interface OutsideRetrainInput {
  jobId: string;
  actor: string;
  trainer: OutsideTrainer;
  champion: ModelVersion;
  championOnnx: Uint8Array;
  /** The field dataset version's rows (parent rows plus field samples) and the build's held-out split. */
  train: Dataset;
  field: FieldDataset;
  labels: string[];
  hyper: Record<string, unknown>;
  /** Where the champion came from (its import record or run), passed on as lineage. */
  championLineage: unknown;
  /** Serves the job's files by URL while the trainer runs; without it the manifest has no `urls`. */
  downloads?: TrainerFileShelf;
}

const shapeText = (t: TensorSignature) => `${t.name}: ${t.dtype}[${t.shape.map((d) => d ?? 'N').join(', ')}]`;

/** Differences between the champion's and the challenger's signatures (names, dtypes, fixed dims), empty when they match. */
export function signatureDifferences(champion: ModelSignature, challenger: ModelSignature): string[] {
  const diffs: string[] = [];
  for (const side of ['inputs', 'outputs'] as const) {
    const a = champion[side];
    const b = challenger[side];
    if (a.length !== b.length) diffs.push(`${b.length} ${side} instead of ${a.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = a[i]!;
      const y = b[i]!;
      const dimsDiffer =
        x.shape.length !== y.shape.length ||
        x.shape.some((d, j) => typeof d === 'number' && typeof y.shape[j] === 'number' && d !== y.shape[j]);
      if (x.name !== y.name || x.dtype !== y.dtype || dimsDiffer)
        diffs.push(`${side.slice(0, -1)} ${i}: ${shapeText(y)} instead of ${shapeText(x)}`);
    }
  }
  return diffs;
}

function csv(data: Dataset): string {
  const per = data.featureShape.reduce((a, b) => a * b, 1);
  const lines = [[...Array.from({ length: per }, (_, i) => `f${i}`), 'label'].join(',')];
  for (let r = 0; r < data.n; r++) lines.push(`${Array.from(data.x.subarray(r * per, (r + 1) * per)).join(',')},${data.y[r]}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the trainer on the field dataset and registers its model as a new version of the champion's model. */
export async function trainOutside(conversion: Pick<ConversionService, 'importOnnx'>, o: OutsideRetrainInput): Promise<ModelVersion> {
  const sig = o.champion.signature as ModelSignature | null;
  if (!sig?.inputs?.length || !sig.outputs?.length)
    throw new RetrainingError(
      'NO_CHAMPION',
      `${o.champion.model}@${o.champion.version} records no input/output signature to hold the trainer's model to`,
    );
  const dir = mkdtempSync(join(tmpdir(), `flotilla-trainer-${o.jobId}-`));
  try {
    const shape = o.train.featureShape;
    // Keys are the manifest's `files` and `urls` keys; HTTP trainers get a small job's bytes inline under them too.
    const npy = 'application/octet-stream';
    const files: Record<string, TrainerFile> = {
      trainX: { name: 'train-x.npy', bytes: encodeNpy(o.train.x, [o.train.n, ...shape]), contentType: npy },
      trainY: { name: 'train-y.npy', bytes: encodeNpy(o.train.y, [o.train.n]), contentType: npy },
      holdoutX: { name: 'holdout-x.npy', bytes: encodeNpy(o.field.holdout.x, [o.field.holdout.n, ...shape]), contentType: npy },
      holdoutY: { name: 'holdout-y.npy', bytes: encodeNpy(o.field.holdout.y, [o.field.holdout.n]), contentType: npy },
      champion: { name: 'champion.onnx', bytes: o.championOnnx, contentType: npy },
    };
    if (shape.reduce((a, b) => a * b, 1) <= CSV_MAX_FEATURES)
      files.trainCsv = { name: 'train.csv', bytes: new TextEncoder().encode(csv(o.train)), contentType: 'text/csv; charset=utf-8' };
    for (const f of Object.values(files)) writeFileSync(join(dir, f.name), f.bytes);
    const v = o.field.version;
    const paths = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(dir, f.name)]));
    const downloads = o.downloads?.offer(o.jobId, files, o.trainer.timeoutSec * 1000) ?? null;
    const manifest = {
      format: 'flotilla-trainer-job/1',
      job: o.jobId,
      model: o.champion.model,
      champion: `${o.champion.model}@${o.champion.version}`,
      signature: sig,
      labels: o.labels,
      featureShape: shape,
      hyper: o.hyper,
      // The field samples are the last `fieldRows` training rows (after the parent's), which a trainer may weight up.
      dataset: {
        digest: v.digest,
        name: v.name,
        parents: v.parents,
        source: v.source,
        rows: o.train.n,
        fieldRows: o.field.fieldRows,
        holdoutRows: o.field.holdout.n,
      },
      lineage: { champion: o.championLineage },
      files: paths,
      output: join(dir, 'model.onnx'),
      // The same files by URL, for trainers on other machines: GET with `Authorization: Bearer <download.token>`,
      // which works only there and only until the trainer finishes or its timeoutSec passes.
      ...(downloads ? { urls: downloads.urls, download: { token: downloads.token, expiresAt: downloads.expiresAt } } : {}),
    };
    const manifestPath = join(dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    const job: TrainerJob = { manifestPath, manifest, files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.bytes])) };
    const bytes = await runOutsideTrainer(o.trainer, job);
    // The trainer is done: its download token dies now, not at its time limit.
    o.downloads?.withdraw(o.jobId);
    let challengerSig: ModelSignature;
    try {
      challengerSig = (await inspectOnnx(bytes)).signature;
    } catch (e) {
      if (e instanceof ConvertError)
        throw new RetrainingError('TRAINER_OUTPUT_INVALID', `the trainer's output is not a model onnxruntime can load: ${e.message}`);
      throw e;
    }
    const diffs = signatureDifferences(sig, challengerSig);
    if (diffs.length)
      throw new RetrainingError(
        'TRAINER_SIGNATURE_MISMATCH',
        `the trainer's model does not fit the champion's signature (${diffs.join('; ')}); devices could not swap it in`,
      );
    // The same import an operator runs: the field rows are its reference set, so drift after a rollout is
    // measured against the data the challenger was trained on.
    const ref = spreadRows(o.train);
    const lineage = {
      trainer: o.trainer.kind === 'command' ? { kind: 'command', command: o.trainer.command } : { kind: 'http', url: o.trainer.url },
      retrainJob: o.jobId,
      dataset: manifest.dataset,
      champion: manifest.champion,
    };
    return await conversion.importOnnx(
      bytes,
      o.champion.model,
      `retrain ${o.jobId} of ${manifest.champion} by an outside trainer on ${v.name}@${v.digest.slice(0, 12)}`,
      o.actor,
      {
        reference: encodeNpy(ref.x, [ref.n, ...shape]),
        labels: new TextEncoder().encode(JSON.stringify(o.labels)),
        lineage: new TextEncoder().encode(JSON.stringify(lineage)),
      },
      'trainer',
    );
  } finally {
    o.downloads?.withdraw(o.jobId);
    rmSync(dir, { recursive: true, force: true });
  }
}
