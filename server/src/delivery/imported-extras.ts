// Manifest extras of a model made elsewhere (imported, or from an outside trainer): labels, the reference
// profile and self-tests from the evidence computed at import. Self-test outputs are recomputed with the
// artifact being bundled (an int8 model answers slightly differently from its float parent). A model from an
// outside trainer was trained on a field dataset version: like a native retrain's, its reference is profiled
// per cohort from that version's rows (field-reference.ts), so a retrain that only the cars needed does not
// judge phones that never saw snow against a snowy reference.
import type { JsonValue } from '@flotilla/firmware-bundler';
import type { BlobStore } from '../blob/blob-store.ts';
import { EVIDENCE } from '../conversion/conversion-service.ts';
import type { ImportEvidence, ImportRecord } from '../conversion/import-evidence.ts';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { COHORT_PROFILES_EXTENSION } from '../monitoring/model-reference.ts';
import { selfTestVectors, type IoNames } from '../monitoring/reference-from-rows.ts';
import { isFieldProvenance } from '../retraining/field-dataset.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import type { ManifestExtras } from './bundle-service.ts';
import { fieldReference } from './field-reference.ts';

/** Digest of the field dataset version an outside trainer trained `mv` on (its import lineage); null for an operator's import. */
export function trainedOnDataset(mv: ModelVersion): string | null {
  const rec = (mv.metrics as { import?: ImportRecord } | null)?.import;
  if (rec?.source !== 'trainer') return null;
  const digest = (rec.lineage as { dataset?: { digest?: unknown } } | null)?.dataset?.digest;
  return typeof digest === 'string' ? digest : null;
}

/**
 * The per-cohort reference of a model an outside trainer made, from the field dataset version it was given
 * (all of its rows: a trainer gets them all), on the evidence's feature names; null when the version, its
 * rows or its provenance are gone or do not fit the evidence (then the evidence's single profile stands).
 */
async function cohortReference(store: Pick<Store, 'datasets'>, blobs: BlobStore, mv: ModelVersion, ev: ImportEvidence): Promise<Pick<ManifestExtras, 'referenceProfile' | 'extensions'> | null> {
  const digest = trainedOnDataset(mv);
  const ds = digest ? await store.datasets.get(digest) : null;
  if (!ds || !isFieldProvenance(ds.report)) return null;
  const bytes = await blobs.get(ds.digest);
  if (!bytes) return null;
  const { data } = decodeDataset(bytes);
  if (data.featureShape.join(',') !== ev.featureShape.join(',')) return null;
  const ref = fieldReference(data, ev.reference.features.map((f) => f.name), Int32Array.from({ length: data.n }, (_, i) => i), ds.report);
  return {
    referenceProfile: { features: ref.features },
    ...(Object.keys(ref.cohorts).length ? { extensions: { [COHORT_PROFILES_EXTENSION]: ref.cohorts as unknown as JsonValue } } : {}),
  };
}

/** Extras from the version's `evidence.json`; nothing when it was imported without a reference set. */
export async function importedExtras(store: Pick<Store, 'datasets'>, blobs: BlobStore, mv: ModelVersion, onnx: Uint8Array, names: IoNames): Promise<ManifestExtras> {
  const digest = mv.artifacts[EVIDENCE];
  const bytes = digest ? await blobs.get(digest) : null;
  if (!bytes) return {};
  const ev = JSON.parse(new TextDecoder().decode(bytes)) as ImportEvidence;
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
