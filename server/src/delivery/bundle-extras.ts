// What the registry knows that a bundle's manifest should carry: labels, lineage, the quantization report,
// self-test vectors computed with onnxruntime on held-out rows, and a reference feature profile computed
// from the training split with the agent's own feature code, so devices histogram live inputs on the same bins.
// Imported models (no run) get the same from the evidence recorded at import (`imported-extras.ts`).
import { readFileSync } from 'node:fs';
import type { JsonValue } from '@flotilla/firmware-bundler';
import { AGENT_VERSION } from '@flotilla/edge-agent';
import type { BlobStore } from '../blob/blob-store.ts';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { splitIndices, takeRows } from '../datasets/splits.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { PROFILE_ROWS, referenceProfile, selfTestVectors, SELF_TESTS } from '../monitoring/reference-from-rows.ts';
import { DeliveryError } from './delivery-error.ts';
import { importedExtras } from './imported-extras.ts';
import type { ManifestExtras } from './bundle-service.ts';
import { COHORT_PROFILES_EXTENSION } from '../monitoring/model-reference.ts';
import { isFieldProvenance } from '../retraining/field-dataset.ts';
import { fieldReference, spreadIndices } from './field-reference.ts';

/**
 * The int8 weight range a device can check against its own CPU (SPEC §4.5): outside [-64, 63] the model
 * saturates on x86 CPUs without VNNI. Reports stored before the check carry no range and add nothing.
 */
function weightRangeMetrics(parity: Record<string, any>): Record<string, number> {
  const k = parity.kernelSafety as { min?: number; max?: number } | undefined;
  return typeof k?.min === 'number' && typeof k.max === 'number' ? { int8WeightMin: k.min, int8WeightMax: k.max } : {};
}

/** Manifest extras for a registry version; refuses an int8 artifact whose parity gate failed without override. */
export async function bundleExtras(
  store: Store,
  blobs: BlobStore,
  mv: ModelVersion,
  artifact: string,
): Promise<ManifestExtras & { lineage?: Record<string, string> }> {
  const q = mv.quantization as {
    gate?: { allowed?: boolean; failures?: string[] };
    parity?: Record<string, any>;
    calibration?: { samples?: number };
    mode?: string;
    opset?: number;
    scheme?: { weightType?: string };
  } | null;
  if (artifact === 'model.int8.onnx' && q?.gate && q.gate.allowed === false) {
    throw new DeliveryError(
      'PARITY_GATE_FAILED',
      `${mv.model}@${mv.version}'s int8 model failed its parity gate (${(q.gate.failures ?? []).join('; ')}); export again with an override reason to bundle it anyway`,
    );
  }
  const extras: ManifestExtras & { lineage?: Record<string, string> } = {
    runtime: { minAgentVersion: AGENT_VERSION, executionProviders: ['cpu'], ...(q?.opset ? { opset: q.opset } : {}) },
  };
  const onnxSig = (q as { signature?: ManifestExtras['signature'] } | null)?.signature;
  if (onnxSig) extras.signature = onnxSig;
  if (q?.parity && artifact === 'model.int8.onnx') {
    extras.quantization = {
      scheme: q.mode === 'dynamic' ? 'int8-dynamic' : 'int8-qdq',
      weightType: q.scheme?.weightType === 'uint8' ? 'uint8' : 'int8',
      activationType: 'uint8',
      perChannel: true,
      ...(q.calibration?.samples ? { calibrationSamples: q.calibration.samples } : {}),
      floatParentDigest: q.parity.float?.digest,
      metrics: Object.fromEntries(
        Object.entries({
          top1Agreement: q.parity.top1Agreement,
          accuracyDropPoints: q.parity.accuracyDropPoints,
          sizeRatio: q.parity.sizeRatio,
          ...weightRangeMetrics(q.parity),
        }).filter(([, v]) => typeof v === 'number'),
      ) as Record<string, number>,
    };
  }
  const onnx = await blobs.get(mv.artifacts[artifact]!);
  const sig = mv.signature as { inputs?: { name: string }[]; outputs?: { name: string }[] } | null;
  const names = {
    input: (q as any)?.signature?.inputs?.[0]?.name ?? sig?.inputs?.[0]?.name ?? 'input',
    output: (q as any)?.signature?.outputs?.[0]?.name ?? sig?.outputs?.[0]?.name ?? 'probabilities',
  };
  if (!mv.runId) return { ...extras, ...(onnx ? await importedExtras(store, blobs, mv, onnx, names) : {}) };
  const run = await store.runs.get(mv.runId);
  const ds = run ? await store.datasets.get(run.datasetDigest) : null;
  const path = ds ? blobs.localPath(ds.digest) : null;
  if (!run || !ds || !path) return extras;
  const code = run.environment.code as { commit?: string | null; dirty?: boolean | null } | undefined;
  extras.lineage = {
    datasetDigest: ds.digest,
    runId: run.id,
    ...(code?.commit ? { codeVersion: `${code.commit}${code.dirty ? '-dirty' : ''}` } : {}),
  };
  extras.labels = ds.classes;
  const { data } = decodeDataset(new Uint8Array(readFileSync(path)));
  const split = splitIndices(data.n, { seed: run.splitSeed, train: 0.8, validation: 0.1, test: 0.1 });
  if (isFieldProvenance(ds.report)) {
    // Trained on some cohorts' field data: each cohort is profiled on what it is expected to send.
    const ref = fieldReference(data, ds.featureNames, split.train, ds.report);
    extras.referenceProfile = { features: ref.features };
    if (Object.keys(ref.cohorts).length) extras.extensions = { [COHORT_PROFILES_EXTENSION]: ref.cohorts as unknown as JsonValue };
  } else {
    // Split indices come back sorted, and datasets are often ordered by class (MNIST is): every k-th row, not the first
    // PROFILE_ROWS, or the profile describes a few classes and every cohort looks drifted against it.
    extras.referenceProfile = {
      features: referenceProfile(takeRows(data, spreadIndices([...split.train], PROFILE_ROWS)), ds.featureNames),
    };
  }
  if (onnx) extras.selfTests = await selfTestVectors(onnx, takeRows(data, split.test.subarray(0, SELF_TESTS)), names);
  return extras;
}
