// Manifest extras of a model made elsewhere (imported, or from an outside trainer): labels, the reference
// profile and self-tests from the evidence computed at import. Self-test outputs are recomputed with the
// artifact being bundled (an int8 model answers slightly differently from its float parent).
import type { BlobStore } from '../blob/blob-store.ts';
import { EVIDENCE } from '../conversion/conversion-service.ts';
import type { ImportEvidence } from '../conversion/import-evidence.ts';
import { selfTestVectors, type IoNames } from '../monitoring/reference-from-rows.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { ManifestExtras } from './bundle-service.ts';

/** Extras from the version's `evidence.json`; nothing when it was imported without a reference set. */
export async function importedExtras(blobs: BlobStore, mv: ModelVersion, onnx: Uint8Array, names: IoNames): Promise<ManifestExtras> {
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
    selfTests: await selfTestVectors(onnx, { x, n: inputs.length, featureShape: ev.featureShape }, names),
  };
}
