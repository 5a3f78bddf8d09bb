// Field datasets: a parent dataset plus labelled field samples, as a new canonical version whose lineage
// names the parent; the most recent samples are held out (never trained on) for the challenger gate.
import type { BlobStore } from '../blob/blob-store.ts';
import { decodeDataset, encodeDataset, featuresPerRow } from '../datasets/canonical-format.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { splitIndices, takeRows } from '../datasets/splits.ts';
import { RetrainingError } from './retraining-error.ts';
import type { DatasetVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import type { FeedbackSource, FieldSample, FieldSampleStore } from './field-sample-store.ts';

export interface FieldDatasetRequest {
  /** Parent dataset: name (latest version) or digest, e.g. `mnist`. */
  parent: string;
  /** Only samples from devices running this model. */
  model?: string;
  /** Only samples from devices in these cohorts (tags); all cohorts when absent. */
  cohorts?: string[];
  /** Share of the most recent samples kept out for the gate, 0..0.9 (default 0.2). */
  holdoutFraction?: number;
  /** Split seed of the parent's runs; the parent's test rows under it are left out so the gate's test split stays unseen (default 42). */
  splitSeed?: number;
  /** Most field samples read (default 50,000). */
  maxSamples?: number;
  /** Name of the new version (default `<parent>-field`). */
  name?: string;
  /**
   * A label's samples are used only when at least this many distinct devices sent them (default 1): one
   * device, however many samples it sends, then cannot teach the model a label by itself.
   */
  minDevicesPerLabel?: number;
  /** Only labels from these feedback sources (all when absent): a page posting labels through an agent's local API then teaches nothing. */
  sources?: readonly FeedbackSource[];
  /**
   * When the inputs changed (a drift alert's `since`): each group records how many of its rows arrived at or
   * after it, so the new version can be profiled on what its cohorts send now rather than on the mix.
   */
  recentSince?: string;
}

/**
 * Where a field dataset's rows came from, kept as the version's `report`: the parent's rows first
 * (`parentRows` of them), then the field rows grouped by the cohorts (tags) of the devices that sent
 * them. Bundles of a model trained on it profile each cohort on its own rows (bundle-extras.ts).
 */
export interface FieldProvenance {
  kind: 'field';
  parentRows: number;
  /**
   * `recent`: of the group's `count` rows (in time order), the last ones that arrived at or after the
   * request's `recentSince`; absent when the dataset was built without it.
   */
  groups: { cohorts: string[]; start: number; count: number; recent?: number }[];
}

export const isFieldProvenance = (r: unknown): r is FieldProvenance =>
  !!r &&
  typeof r === 'object' &&
  (r as FieldProvenance).kind === 'field' &&
  Number.isInteger((r as FieldProvenance).parentRows) &&
  Array.isArray((r as FieldProvenance).groups);

const cohortKey = (s: FieldSample) => [...s.cohorts].sort().join('\u0000');

export interface FieldDataset {
  version: DatasetVersion;
  /** Most recent field samples, not in `version`: the gate's field slice. */
  holdout: Dataset;
  /** The parent's original test split (same seed as training), for the gate's regression check. */
  parentTest: Dataset;
  fieldRows: number;
}

export interface FieldDatasetDeps {
  store: Pick<Store, 'datasets'>;
  blobs: BlobStore;
  samples: FieldSampleStore;
}

/** Loads and decodes a dataset version by name or digest; NOT_FOUND when it or its blob is missing. */
export async function loadDataset(
  deps: Pick<FieldDatasetDeps, 'store' | 'blobs'>,
  ref: string,
): Promise<{ version: DatasetVersion; data: Dataset }> {
  const version = await deps.store.datasets.resolve(ref);
  const bytes = version ? await deps.blobs.get(version.digest) : null;
  if (!version || !bytes) throw RetrainingError.notFound('dataset', ref);
  return { version, data: decodeDataset(bytes).data };
}

async function samplesFor(deps: FieldDatasetDeps, r: FieldDatasetRequest): Promise<FieldSample[]> {
  const limit = r.maxSamples ?? 50_000;
  const lists = r.cohorts?.length
    ? await Promise.all(r.cohorts.map((cohort) => deps.samples.labelled({ cohort, model: r.model, sources: r.sources, limit })))
    : [await deps.samples.labelled({ model: r.model, sources: r.sources, limit })];
  const seen = new Map<string, FieldSample>();
  for (const s of lists.flat()) seen.set(`${s.deviceId}\u0000${s.predictionId}`, s);
  // A total order on content keys makes the version's bytes (and so its digest) independent of query order.
  return [...seen.values()].sort(
    (a, b) => a.at.localeCompare(b.at) || a.deviceId.localeCompare(b.deviceId) || a.predictionId.localeCompare(b.predictionId),
  );
}

function toDataset(rows: readonly FieldSample[], featureShape: number[], numClasses: number): Dataset {
  const size = featuresPerRow(featureShape);
  const x = new Float32Array(rows.length * size);
  const y = new Int32Array(rows.length);
  rows.forEach((s, i) => {
    x.set(new Float32Array(s.input.buffer.slice(s.input.byteOffset, s.input.byteOffset + s.input.byteLength)), i * size);
    y[i] = s.label!;
  });
  return { x, y, n: rows.length, featureShape, numClasses };
}

function concat(a: Dataset, b: Dataset): Dataset {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.n + b.n);
  y.set(a.y);
  y.set(b.y, a.n);
  return { x, y, n: a.n + b.n, featureShape: a.featureShape, numClasses: a.numClasses };
}

/** Builds (or finds, when the content is the same) the field dataset version. */
/** The samples whose label came from at least `min` distinct devices, and the labels that did not. */
function withEnoughDevices(samples: readonly FieldSample[], min: number): { kept: FieldSample[]; dropped: number[] } {
  if (min <= 1) return { kept: [...samples], dropped: [] };
  const devices = new Map<number, Set<string>>();
  for (const s of samples) {
    let d = devices.get(s.label!);
    if (!d) devices.set(s.label!, (d = new Set()));
    d.add(s.deviceId);
  }
  const dropped = [...devices]
    .filter(([, d]) => d.size < min)
    .map(([label]) => label)
    .sort((a, b) => a - b);
  return { kept: samples.filter((s) => !dropped.includes(s.label!)), dropped };
}

export async function buildFieldDataset(deps: FieldDatasetDeps, r: FieldDatasetRequest): Promise<FieldDataset> {
  const { version: parent, data } = await loadDataset(deps, r.parent);
  const size = featuresPerRow(parent.featureShape);
  // Samples whose size or label do not fit the parent cannot join it; they are skipped, not fatal.
  const fitting = (await samplesFor(deps, r)).filter(
    (s) => s.input.byteLength === size * 4 && s.label !== null && s.label >= 0 && s.label < parent.classes.length,
  );
  const { kept: usable, dropped } = withEnoughDevices(fitting, r.minDevicesPerLabel ?? 1);
  const holdoutCount = Math.ceil(usable.length * Math.min(Math.max(r.holdoutFraction ?? 0.2, 0), 0.9));
  // Field rows grouped by their devices' cohorts (time order within a group): each cohort's rows are one run.
  const train = usable
    .slice(0, usable.length - holdoutCount)
    .map((x, i) => ({ x, i, k: cohortKey(x) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .map((e) => e.x);
  const split = splitIndices(data.n, { seed: r.splitSeed ?? 42, train: 0.8, validation: 0.1, test: 0.1 });
  const kept = Int32Array.from([...split.train, ...split.validation].sort((a, b) => a - b));
  const merged = concat(takeRows(data, kept), toDataset(train, parent.featureShape, parent.classes.length));
  const provenance: FieldProvenance = { kind: 'field', parentRows: kept.length, groups: [] };
  const since = r.recentSince === undefined ? NaN : Date.parse(r.recentSince);
  train.forEach((x, i) => {
    const last = provenance.groups.at(-1);
    // Rows are in time order within a group, so its recent rows are its last ones.
    const recent = Number.isNaN(since) ? undefined : Date.parse(x.at) >= since ? 1 : 0;
    if (last && last.cohorts.join('\u0000') === cohortKey(x)) {
      last.count++;
      if (recent !== undefined) last.recent = (last.recent ?? 0) + recent;
    } else
      provenance.groups.push({
        cohorts: [...x.cohorts].sort(),
        start: kept.length + i,
        count: 1,
        ...(recent === undefined ? {} : { recent }),
      });
  });
  const meta = {
    featureNames: parent.featureNames,
    featureShape: parent.featureShape,
    classes: parent.classes,
    rows: merged.n,
    dtype: 'float32' as const,
  };
  const blob = await deps.blobs.put(encodeDataset(meta, merged));
  const scope = `${r.model ?? 'any model'}, cohorts ${r.cohorts?.length ? r.cohorts.join(',') : 'all'}${r.sources?.length ? `, labels from ${r.sources.join(',')}` : ''}`;
  const version = await deps.store.datasets.put({
    digest: blob.digest,
    name: r.name ?? `${parent.name}-field`,
    bytes: blob.bytes,
    rows: merged.n,
    featureShape: parent.featureShape,
    featureNames: parent.featureNames,
    classes: parent.classes,
    report: provenance,
    parents: [parent.digest],
    source:
      `field samples: ${train.length} labelled (${scope}) + ${parent.name} train/validation rows (seed ${r.splitSeed ?? 42}); ${holdoutCount} newest held out` +
      (dropped.length
        ? `; labels ${dropped.map((l) => parent.classes[l]).join(', ')} left out (fewer than ${r.minDevicesPerLabel} devices)`
        : ''),
    createdAt: new Date().toISOString(),
  });
  return {
    version,
    fieldRows: train.length,
    holdout: toDataset(usable.slice(usable.length - holdoutCount), parent.featureShape, parent.classes.length),
    parentTest: takeRows(data, split.test),
  };
}
