// What the registry knows that a bundle's manifest should carry: labels, lineage, the quantization report,
// self-test vectors computed with onnxruntime on held-out rows, and a reference feature profile computed
// from the training split with the agent's own feature code, so devices histogram live inputs on the same bins.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { compileFeatures, histogram, type FeatureProfile, type JsonValue, type SelfTestVector } from '@flotilla/firmware-bundler';
import { AGENT_VERSION } from '@flotilla/edge-agent';
import type { BlobStore } from '../blob/blob-store.ts';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { splitIndices, takeRows } from '../datasets/splits.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { DeliveryError } from './delivery-error.ts';
import type { ManifestExtras } from './bundle-service.ts';
import { COHORT_PROFILES_EXTENSION, MAX_COHORT_PROFILES, type CohortProfile } from '../monitoring/model-reference.ts';
import { isFieldProvenance, type FieldProvenance } from '../retraining/field-dataset.ts';

/** Bins per monitored feature. Ten deciles keep the expected count per bin ≥ 20 at the detector's 200-sample minimum. */
export const PROFILE_BINS = 10;
/** Training rows used for the profile (more adds little precision and costs bundle-time CPU). */
export const PROFILE_ROWS = 4000;
/** Self-test vectors per bundle. */
export const SELF_TESTS = 4;
/** Most index features monitored for tabular data. */
export const MAX_TABULAR_FEATURES = 32;

/** The monitored features of `rows` (image summaries for images, one per column for tables) and their values. */
function featureValues(rows: Dataset, featureNames: string[]): { wanted: FeatureProfile[]; values: Float64Array[] } {
  const dims = rows.featureShape;
  const image = dims.length === 3 && dims[0]! >= 8 && dims[1]! >= 8;
  const wanted: FeatureProfile[] = image
    ? ['mean_brightness', 'contrast', 'edge_density'].map((name) => ({ name, edges: [], frequencies: [] }))
    : Array.from({ length: Math.min(MAX_TABULAR_FEATURES, dims.reduce((a, b) => a * b, 1)) }, (_, i) => ({ name: featureNames[i] ?? `f${i}`, index: i, edges: [], frequencies: [] }));
  const extract = compileFeatures(wanted, dims);
  const per = dims.reduce((a, b) => a * b, 1);
  const values = wanted.map(() => new Float64Array(rows.n));
  const scratch = new Float64Array(wanted.length);
  for (let r = 0; r < rows.n; r++) {
    extract(rows.x, r * per, scratch);
    for (let f = 0; f < wanted.length; f++) values[f]![r] = scratch[f]!;
  }
  return { wanted, values };
}

const frequenciesOn = (edges: number[], v: Float64Array) => histogram({ edges }, v).map((c) => c / v.length);

/** Reference profile on `rows`: image summaries for images, one feature per column for tables. */
export function referenceProfile(rows: Dataset, featureNames: string[]): FeatureProfile[] {
  const { wanted, values } = featureValues(rows, featureNames);
  return wanted.map((w, f) => {
    const edges = quantileEdges(values[f]!, PROFILE_BINS);
    return { ...w, edges, frequencies: frequenciesOn(edges, values[f]!), count: rows.n };
  });
}

/** A cohort needs this many field rows of its own before it gets its own profile (fewer would be noise). */
export const MIN_COHORT_ROWS = 200;

/** Every k-th of `idx` so that at most `max` remain (datasets are often ordered by class: no prefix). */
const spread = (idx: readonly number[], max: number) => {
  const step = Math.max(1, Math.ceil(idx.length / max));
  return Int32Array.from(idx.filter((_, i) => i % step === 0));
};

/**
 * The reference of a model trained on a field dataset (issue 17): the bins come from its training rows
 * (clean and field alike, so every input has a bin), but what a cohort is expected to send depends on
 * the cohort. Cohorts that sent at least MIN_COHORT_ROWS of the field rows are profiled on those rows
 * (snowy cars on snowy images), on their rows since the drift began when the dataset says which those are
 * and there are enough (a cohort's older rows predate the snow; the newer half of them when that half has
 * enough, clear of the transition); the model's own frequencies, which every
 * other cohort is judged on, come from the parent's clean rows: a cohort whose data was not used is
 * expected to send what it always did.
 */
export function fieldReference(data: Dataset, featureNames: string[], trainRows: Int32Array, prov: FieldProvenance): { features: FeatureProfile[]; cohorts: Record<string, CohortProfile> } {
  const features = referenceProfile(takeRows(data, spread([...trainRows], PROFILE_ROWS)), featureNames);
  const clean = spread(Array.from({ length: Math.min(prov.parentRows, data.n) }, (_, i) => i), PROFILE_ROWS);
  const profileOf = (idx: Int32Array) => {
    const { values } = featureValues(takeRows(data, idx), featureNames);
    return features.map((f, i) => ({ name: f.name, frequencies: frequenciesOn(f.edges, values[i]!), count: idx.length }));
  };
  const base = clean.length > 0 ? profileOf(clean) : null;
  const out = base ? features.map((f, i) => ({ ...f, frequencies: base[i]!.frequencies, count: base[i]!.count })) : features;
  // A cohort's rows; those since the drift began (a group's newest `recent` rows); and the newer half of
  // those, past the transition: the alert's `since` is the start of its first breaching detection window,
  // which may have pooled the last seconds before the change.
  const byCohort = new Map<string, { all: number[]; recent: number[]; settled: number[] }>();
  for (const g of prov.groups) {
    const end = Math.min(g.start + g.count, data.n);
    const recentFrom = g.recent === undefined ? end : Math.max(g.start, end - g.recent);
    const settledFrom = g.recent === undefined ? end : Math.max(g.start, end - Math.ceil(g.recent / 2));
    for (const c of g.cohorts) {
      const rows = byCohort.get(c) ?? { all: [], recent: [], settled: [] };
      for (let r = g.start; r < end; r++) {
        rows.all.push(r);
        if (r >= recentFrom) rows.recent.push(r);
        if (r >= settledFrom) rows.settled.push(r);
      }
      byCohort.set(c, rows);
    }
  }
  const cohorts: Record<string, CohortProfile> = {};
  for (const [c, rows] of [...byCohort].sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, MAX_COHORT_PROFILES)) {
    // What the cohort sends now: its settled rows since the drift when there are enough, else all since the
    // drift, else all of its rows.
    const now = [rows.settled, rows.recent, rows.all].find((x) => x.length >= MIN_COHORT_ROWS);
    if (now) cohorts[c] = { features: profileOf(spread(now, PROFILE_ROWS)) };
  }
  return { features: out, cohorts };
}

/** Strictly increasing edges at the quantiles of `v` (ties collapse bins; a constant feature gets one bin). */
export function quantileEdges(v: Float64Array, bins: number): number[] {
  const s = Float64Array.from(v).sort();
  const lo = s[0]!;
  const hi = s[s.length - 1]!;
  if (!(hi > lo)) return [lo, lo + 1];
  const edges = [lo];
  for (let b = 1; b < bins; b++) {
    const q = s[Math.floor((b * s.length) / bins)]!;
    if (q > edges[edges.length - 1]!) edges.push(q);
  }
  // The last edge sits just above the maximum so the largest training value lands in the last bin.
  edges.push(hi + (hi - lo) * 1e-6);
  return edges;
}

async function selfTests(onnx: Uint8Array, rows: Dataset, names: { input: string; output: string }): Promise<SelfTestVector[]> {
  const session = await ort.InferenceSession.create(onnx);
  const per = rows.featureShape.reduce((a, b) => a * b, 1);
  const out: SelfTestVector[] = [];
  for (let i = 0; i < Math.min(SELF_TESTS, rows.n); i++) {
    const x = rows.x.slice(i * per, (i + 1) * per);
    const res = await session.run({ [names.input]: new ort.Tensor('float32', x, [1, ...rows.featureShape]) });
    const y = res[names.output]!.data as Float32Array;
    // int8 kernels differ slightly between CPUs and between onnxruntime-node and -web; 0.02 is far below a class flip.
    out.push({ name: `test-row-${i}`, inputs: { [names.input]: Array.from(x) }, expected: { [names.output]: Array.from(y) }, tolerance: { abs: 0.02, rel: 0.02 } });
  }
  await session.release();
  return out;
}

/**
 * The int8 weight range a device can check against its own CPU (SPEC §4.5): outside [-64, 63] the model
 * saturates on x86 CPUs without VNNI. Reports stored before the check carry no range and add nothing.
 */
function weightRangeMetrics(parity: Record<string, any>): Record<string, number> {
  const k = parity.kernelSafety as { min?: number; max?: number } | undefined;
  return typeof k?.min === 'number' && typeof k.max === 'number' ? { int8WeightMin: k.min, int8WeightMax: k.max } : {};
}

/** Manifest extras for a registry version; refuses an int8 artifact whose parity gate failed without override. */
export async function bundleExtras(store: Store, blobs: BlobStore, mv: ModelVersion, artifact: string): Promise<ManifestExtras & { lineage?: Record<string, string> }> {
  const q = mv.quantization as { gate?: { allowed?: boolean; failures?: string[] }; parity?: Record<string, any>; calibration?: { samples?: number }; mode?: string; opset?: number } | null;
  if (artifact === 'model.int8.onnx' && q?.gate && q.gate.allowed === false) {
    throw new DeliveryError('PARITY_GATE_FAILED', `${mv.model}@${mv.version}'s int8 model failed its parity gate (${(q.gate.failures ?? []).join('; ')}); export again with an override reason to bundle it anyway`);
  }
  const extras: ManifestExtras & { lineage?: Record<string, string> } = {
    runtime: { minAgentVersion: AGENT_VERSION, executionProviders: ['cpu'], ...(q?.opset ? { opset: q.opset } : {}) },
  };
  const onnxSig = (q as { signature?: ManifestExtras['signature'] } | null)?.signature;
  if (onnxSig) extras.signature = onnxSig;
  if (q?.parity && artifact === 'model.int8.onnx') {
    extras.quantization = {
      scheme: q.mode === 'dynamic' ? 'int8-dynamic' : 'int8-qdq', weightType: 'int8', activationType: 'uint8', perChannel: true,
      ...(q.calibration?.samples ? { calibrationSamples: q.calibration.samples } : {}),
      floatParentDigest: q.parity.float?.digest,
      metrics: Object.fromEntries(Object.entries({ top1Agreement: q.parity.top1Agreement, accuracyDropPoints: q.parity.accuracyDropPoints, sizeRatio: q.parity.sizeRatio, ...weightRangeMetrics(q.parity) }).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
    };
  }
  const run = mv.runId ? await store.runs.get(mv.runId) : null;
  const ds = run ? await store.datasets.get(run.datasetDigest) : null;
  const path = ds ? blobs.localPath(ds.digest) : null;
  if (!run || !ds || !path) return extras;
  const code = run.environment.code as { commit?: string | null; dirty?: boolean | null } | undefined;
  extras.lineage = { datasetDigest: ds.digest, runId: run.id, ...(code?.commit ? { codeVersion: `${code.commit}${code.dirty ? '-dirty' : ''}` } : {}) };
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
    extras.referenceProfile = { features: referenceProfile(takeRows(data, spread([...split.train], PROFILE_ROWS)), ds.featureNames) };
  }
  const onnx = await blobs.get(mv.artifacts[artifact]!);
  const sig = mv.signature as { inputs?: { name: string }[]; outputs?: { name: string }[] } | null;
  const names = { input: (q as any)?.signature?.inputs?.[0]?.name ?? sig?.inputs?.[0]?.name ?? 'input', output: (q as any)?.signature?.outputs?.[0]?.name ?? sig?.outputs?.[0]?.name ?? 'probabilities' };
  if (onnx) extras.selfTests = await selfTests(onnx, takeRows(data, split.test.subarray(0, SELF_TESTS)), names);
  return extras;
}
