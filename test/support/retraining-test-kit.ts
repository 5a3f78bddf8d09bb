// Test helper: a temp SQLite store and blob dir, hand-built 3-feature ONNX classifiers, and field samples.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatTensor, makeNode } from '@flotilla/firmware-bundler/onnx';
import { FileBlobStore } from '../../server/src/blob/file-blob-store.ts';
import { modelOf } from '../../server/src/convert/testing/onnx-fixtures.ts';
import { encodeDataset } from '../../server/src/datasets/canonical-format.ts';
import type { Dataset } from '../../server/src/datasets/dataset-types.ts';
import { openDb } from '../../server/src/store/sqlite/db.ts';
import { openSqliteStore } from '../../server/src/store/sqlite/sqlite-store.ts';
import type { FeedbackSource, FieldSample } from '../../server/src/retraining/field-sample-store.ts';
import { SqliteFieldSampleStore } from '../../server/src/store/sqlite/sqlite-field-sample-store.ts';
import { SqliteRetrainingStore } from '../../server/src/store/sqlite/sqlite-retraining-store.ts';

/**
 * The toy world: 3 features, 2 classes. Clean rows are one-hot on feature 0 or 1 (the class); "snow" sets
 * feature 2, and a snowy row of class 1 looks like [1, 0, 1]. Weights are [3 in, 2 out] for one MatMul.
 */
export const WEIGHTS = {
  /** Right on clean rows, wrong on snowy ones. */
  champion: [1, 0, 0, 1, 0, 0],
  /** Right on both: feature 2 pushes to class 1. */
  good: [1, 0, 0, 1, 0, 2],
  /** Right on snowy rows only (swaps clean ones). */
  swapped: [0, 1, 1, 0, 0, 0],
};

export const classifier = (w: number[]): Uint8Array =>
  modelOf(13, [makeNode('MatMul', ['x', 'W'], ['y'])], [floatTensor('W', [3, 2], Float32Array.from(w))], [3], [2]);

export function toyData(rows: number[][], labels: number[]): Dataset {
  return { x: Float32Array.from(rows.flat()), y: Int32Array.from(labels), n: rows.length, featureShape: [3], numClasses: 2 };
}

/** `n` clean rows alternating classes 0 and 1. */
export const cleanRows = (n: number) =>
  toyData(
    Array.from({ length: n }, (_, i) => (i % 2 ? [0, 1, 0] : [1, 0, 0])),
    Array.from({ length: n }, (_, i) => i % 2),
  );
/** `n` snowy rows, all class 1. */
export const snowyRows = (n: number) =>
  toyData(
    Array.from({ length: n }, () => [1, 0, 1]),
    Array.from({ length: n }, () => 1),
  );

export function sample(
  deviceId: string,
  i: number,
  o: { snowy?: boolean; cohorts?: string[]; label?: number | null; source?: FeedbackSource } = {},
): FieldSample {
  const x = o.snowy ? [1, 0, 1] : i % 2 ? [0, 1, 0] : [1, 0, 0];
  const label = o.label === undefined ? (o.snowy ? 1 : i % 2) : o.label;
  return {
    deviceId,
    predictionId: `p${i}`,
    cohorts: o.cohorts ?? [],
    model: 'toy',
    input: new Uint8Array(Float32Array.from(x).buffer),
    shape: [3],
    prediction: 0,
    confidence: 0.9,
    label,
    source: label === null ? null : (o.source ?? 'app'),
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  };
}

export async function openWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-retrain-'));
  const store = openSqliteStore(join(dir, 'flotilla.db'));
  // Policies and jobs in the metadata file, as the server's side stores open them (a second connection).
  const metadataDb = openDb(join(dir, 'flotilla.db'));
  const retraining = new SqliteRetrainingStore(metadataDb);
  const blobs = new FileBlobStore(join(dir, 'blobs'));
  const db = openDb(join(dir, 'field-samples.db'));
  const samples = new SqliteFieldSampleStore(db);
  const parentData = cleanRows(100);
  const bytes = encodeDataset(
    { featureNames: ['a', 'b', 'snow'], featureShape: [3], classes: ['0', '1'], rows: parentData.n, dtype: 'float32' },
    parentData,
  );
  const blob = await blobs.put(bytes);
  const parent = await store.datasets.put({
    digest: blob.digest,
    name: 'toy',
    bytes: blob.bytes,
    rows: parentData.n,
    featureShape: [3],
    featureNames: ['a', 'b', 'snow'],
    classes: ['0', '1'],
    report: null,
    parents: [],
    source: 'test',
    createdAt: new Date().toISOString(),
  });
  return {
    dir,
    store,
    blobs,
    samples,
    parent,
    retraining,
    async close() {
      db.close();
      metadataDb.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
