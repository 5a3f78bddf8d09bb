// Manifest extras of a model made elsewhere (imported, or from an outside trainer): labels, the reference
// profile and self-tests from the evidence computed at import. Self-test outputs are recomputed with the
// artifact being bundled (an int8 model answers slightly differently from its float parent). A model from an
// outside trainer was trained on a field dataset version: like a native retrain's, its reference is profiled
// per cohort from that version's rows (field-reference.ts), so a retrain that only the cars needed does not
// judge phones that never saw snow against a snowy reference; cohorts without field rows of their own are
// judged on the champion's import reference rows when it was an operator's import, else the parent's rows.
import type { JsonValue } from '@flotilla/firmware-bundler';
import type { BlobStore } from '../blob/blob-store.ts';
import { EVIDENCE } from '../conversion/conversion-service.ts';
import type { ImportEvidence, ImportRecord } from '../conversion/import-evidence.ts';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { COHORT_PROFILES_EXTENSION } from '../monitoring/model-reference.ts';
import { selfTestVectors, type IoNames, type Rows } from '../monitoring/reference-from-rows.ts';
import { readNpy } from '../convert/npy.ts';
import { isFieldProvenance } from '../retraining/field-dataset.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import type { ManifestExtras } from './bundle-service.ts';
import { fieldReference } from './field-reference.ts';

/** The field dataset version (digest) and champion (`name@version`) an outside trainer made `mv` from; null for an operator's import. */
export function trainedFrom(mv: ModelVersion): { dataset: string; champion: string | null } | null {
  const rec = (mv.metrics as { import?: ImportRecord } | null)?.import;
  if (rec?.source !== 'trainer') return null;
  const lineage = rec.lineage as { dataset?: { digest?: unknown }; champion?: unknown } | null;
  const digest = lineage?.dataset?.digest;
  return typeof digest === 'string' ? { dataset: digest, champion: typeof lineage?.champion === 'string' ? lineage.champion : null } : null;
}

const readEvidence = async (blobs: BlobStore, mv: ModelVersion): Promise<ImportEvidence | null> => {
  const digest = mv.artifacts[EVIDENCE];
  const bytes = digest ? await blobs.get(digest) : null;
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as ImportEvidence) : null;
};

/**
 * The rows an operator imported `champion` with (its reference set), when it was an operator's import that
 * kept them and they fit `featureShape`: what its fleet sent before any field data. Null otherwise (a native
 * or trainer-made champion: the field dataset's parent rows are the clean rows then).
 */
async function importedReferenceRows(
  store: Pick<Store, 'models'>,
  blobs: BlobStore,
  champion: string | null,
  featureShape: number[],
): Promise<Rows | null> {
  const v = champion ? await store.models.resolve(champion) : null;
  const ev = v ? await readEvidence(blobs, v) : null;
  if (!ev || ev.record.source !== 'import' || !ev.referenceRows) return null;
  const bytes = await blobs.get(ev.referenceRows);
  if (!bytes) return null;
  const r = readNpy(bytes);
  if (r.shape.slice(1).join(',') !== featureShape.join(',')) return null;
  return { x: r.data, n: r.shape[0]!, featureShape };
}

/**
 * The per-cohort reference of a model an outside trainer made, from the field dataset version it was given
 * (all of its rows: a trainer gets them all), on the evidence's feature names; null when the version, its
 * rows or its provenance are gone or do not fit the evidence (then the evidence's single profile stands).
 */
async function cohortReference(
  store: Pick<Store, 'datasets' | 'models'>,
  blobs: BlobStore,
  mv: ModelVersion,
  ev: ImportEvidence,
): Promise<Pick<ManifestExtras, 'referenceProfile' | 'extensions'> | null> {
  const from = trainedFrom(mv);
  const ds = from ? await store.datasets.get(from.dataset) : null;
  if (!from || !ds || !isFieldProvenance(ds.report)) return null;
  const bytes = await blobs.get(ds.digest);
  if (!bytes) return null;
  const { data } = decodeDataset(bytes);
  if (data.featureShape.join(',') !== ev.featureShape.join(',')) return null;
  const clean = await importedReferenceRows(store, blobs, from.champion, data.featureShape);
  const ref = fieldReference(
    data,
    ev.reference.features.map((f) => f.name),
    Int32Array.from({ length: data.n }, (_, i) => i),
    ds.report,
    clean ?? undefined,
  );
  return {
    referenceProfile: { features: ref.features },
    ...(Object.keys(ref.cohorts).length ? { extensions: { [COHORT_PROFILES_EXTENSION]: ref.cohorts as unknown as JsonValue } } : {}),
  };
}

/** Extras from the version's `evidence.json`; nothing when it was imported without a reference set. */
export async function importedExtras(
  store: Pick<Store, 'datasets' | 'models'>,
  blobs: BlobStore,
  mv: ModelVersion,
  onnx: Uint8Array,
  names: IoNames,
): Promise<ManifestExtras> {
  const ev = await readEvidence(blobs, mv);
  if (!ev) return {};
  const inputs = ev.selfTestInputs.map((r) => Float32Array.from(r));
  const per = ev.featureShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(inputs.length * per);
  inputs.forEach((r, i) => x.set(r, i * per));
  return {
    ...(ev.labels ? { labels: ev.labels } : {}),
    referenceProfile: { features: ev.reference.features },
    ...(await cohortReference(store, blobs, mv, ev)),
    selfTests: await selfTestVectors(onnx, { x, n: inputs.length, featureShape: ev.featureShape }, names),
  };
}
