// The reference of a model retrained on field data, per cohort (issue 17 part 4): what each cohort is expected
// to send, so a retrain that only the cars needed raises no alarm on phones and sensors that never saw snow.
import type { FeatureProfile } from '@flotilla/firmware-bundler';
import type { Dataset } from '../datasets/dataset-types.ts';
import { takeRows } from '../datasets/splits.ts';
import { MAX_COHORT_PROFILES, type CohortProfile } from '../monitoring/model-reference.ts';
import { featureValues, frequenciesOn, PROFILE_ROWS, referenceProfile, spreadRows, type Rows } from '../monitoring/reference-from-rows.ts';
import type { FieldProvenance } from '../retraining/field-dataset.ts';

/** A cohort needs this many field rows of its own before it gets its own profile (fewer would be noise). */
export const MIN_COHORT_ROWS = 200;

/** Every k-th of `idx` so that at most `max` remain (datasets are often ordered by class: no prefix). */
export const spreadIndices = (idx: readonly number[], max: number): Int32Array => {
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
 * expected to send what it always did. `cleanRows`, when given, stand for the parent's rows in that default
 * (an imported champion's reference set: what its fleet sent before any field data, issue 17).
 */
export function fieldReference(
  data: Dataset,
  featureNames: string[],
  trainRows: Int32Array,
  prov: FieldProvenance,
  cleanRows?: Rows,
): { features: FeatureProfile[]; cohorts: Record<string, CohortProfile> } {
  const features = referenceProfile(takeRows(data, spreadIndices([...trainRows], PROFILE_ROWS)), featureNames);
  const clean = spreadIndices(
    Array.from({ length: Math.min(prov.parentRows, data.n) }, (_, i) => i),
    PROFILE_ROWS,
  );
  const profileOfRows = (rows: Rows) => {
    const { values } = featureValues(rows, featureNames);
    return features.map((f, i) => ({ name: f.name, frequencies: frequenciesOn(f.edges, values[i]!), count: rows.n }));
  };
  const profileOf = (idx: Int32Array) => profileOfRows(takeRows(data, idx));
  const base = cleanRows && cleanRows.n > 0 ? profileOfRows(spreadRows(cleanRows)) : clean.length > 0 ? profileOf(clean) : null;
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
    if (now) cohorts[c] = { features: profileOf(spreadIndices(now, PROFILE_ROWS)) };
  }
  return { features: out, cohorts };
}
