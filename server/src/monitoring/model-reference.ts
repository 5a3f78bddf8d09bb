// What a model's live traffic is compared against: the bundle's reference profile plus optional output distributions.
import type { BundleManifest, FeatureProfile, ReferenceProfile } from '@flotilla/firmware-bundler';
import { MonitoringError } from './monitoring-error.ts';

/** Reference distributions of one model version, keyed by `modelKey`. */
export interface ModelReference {
  /** Monitored input features, on the bins shipped in the bundle (SPEC §4.6). */
  features: FeatureProfile[];
  /** Class names in output order, when known. */
  labels?: string[];
  /** Expected share of each predicted class (sums to 1); without it a baseline is learned from the first windows. */
  predictions?: number[];
  /** Expected confidence histogram; without it a baseline is learned from the first windows. */
  confidence?: { edges: number[]; frequencies: number[] };
  /**
   * What particular cohorts are expected to send, where it differs from `features` (same features, same
   * edges, other frequencies). A model retrained on one cohort's field data (snowy cars) expects that
   * cohort's inputs to look like that data, and every other cohort's to look like the clean rows it was
   * trained on: drift of a device's cohort is judged against its own profile when there is one.
   */
  cohorts?: Record<string, CohortProfile>;
}

/** One cohort's expected feature distributions, on the reference's bins. */
export interface CohortProfile {
  features: { name: string; frequencies: number[]; count?: number }[];
}

/** Most cohort profiles one reference may carry. */
export const MAX_COHORT_PROFILES = 256;
/** Bundle manifest extension (SPEC §4.12) carrying `ModelReference.cohorts` with the bundle. */
export const COHORT_PROFILES_EXTENSION = 'flotilla.referenceCohorts';

/** `name@version`: how telemetry, references and alerts name a model version. */
export const modelKey = (m: { name: string; version: string }): string => `${m.name}@${m.version}`;

const SUM_TOLERANCE = 1e-6;

function checkFrequencies(what: string, f: readonly number[]): void {
  if (f.length === 0 || f.some((x) => !(x >= 0) || !Number.isFinite(x)))
    throw new MonitoringError('INVALID_REFERENCE', `${what}: frequencies must be finite and >= 0`);
  const s = f.reduce((a, b) => a + b, 0);
  if (Math.abs(s - 1) > SUM_TOLERANCE) throw new MonitoringError('INVALID_REFERENCE', `${what}: frequencies sum to ${s}, not 1`);
}

function checkEdges(what: string, edges: readonly number[], bins: number): void {
  if (edges.length !== bins + 1)
    throw new MonitoringError('INVALID_REFERENCE', `${what}: ${edges.length} edges for ${bins} bins (need ${bins + 1})`);
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i]! > edges[i - 1]!)) throw new MonitoringError('INVALID_REFERENCE', `${what}: edges must increase strictly`);
  }
}

/** Refuses a reference the detector could not use, naming the first problem (code INVALID_REFERENCE). */
export function validateReference(ref: ModelReference): ModelReference {
  const names = new Set<string>();
  for (const f of ref.features) {
    if (!f.name || names.has(f.name)) throw new MonitoringError('INVALID_REFERENCE', `feature name '${f.name}' is empty or repeated`);
    if (f.name.startsWith('@'))
      throw new MonitoringError('INVALID_REFERENCE', `feature name '${f.name}': names starting with '@' are reserved`);
    names.add(f.name);
    checkEdges(`feature '${f.name}'`, f.edges, f.frequencies.length);
    checkFrequencies(`feature '${f.name}'`, f.frequencies);
  }
  if (ref.predictions) {
    checkFrequencies('predictions', ref.predictions);
    if (ref.labels && ref.labels.length !== ref.predictions.length)
      throw new MonitoringError('INVALID_REFERENCE', `predictions: ${ref.predictions.length} shares for ${ref.labels.length} labels`);
  }
  if (ref.confidence) {
    checkEdges('confidence', ref.confidence.edges, ref.confidence.frequencies.length);
    checkFrequencies('confidence', ref.confidence.frequencies);
  }
  const cohorts = Object.entries(ref.cohorts ?? {});
  if (cohorts.length > MAX_COHORT_PROFILES)
    throw new MonitoringError('INVALID_REFERENCE', `${cohorts.length} cohort profiles; at most ${MAX_COHORT_PROFILES}`);
  for (const [cohort, p] of cohorts) {
    if (!cohort || cohort.length > 128)
      throw new MonitoringError('INVALID_REFERENCE', `cohort '${cohort.slice(0, 40)}': names have 1 to 128 characters`);
    for (const f of p.features) {
      const base = ref.features.find((x) => x.name === f.name);
      if (!base) throw new MonitoringError('INVALID_REFERENCE', `cohort '${cohort}': feature '${f.name}' is not in the reference`);
      if (f.frequencies.length !== base.frequencies.length)
        throw new MonitoringError(
          'INVALID_REFERENCE',
          `cohort '${cohort}', feature '${f.name}': ${f.frequencies.length} frequencies for ${base.frequencies.length} bins`,
        );
      checkFrequencies(`cohort '${cohort}', feature '${f.name}'`, f.frequencies);
    }
  }
  return ref;
}

/** The reference as `cohort` should see it: its own feature frequencies where it has them, the model's elsewhere. */
export function referenceForCohort(ref: ModelReference, cohort: string | undefined): ModelReference {
  const own = cohort === undefined ? undefined : ref.cohorts?.[cohort];
  if (!own) return ref;
  const by = new Map(own.features.map((f) => [f.name, f]));
  return {
    ...ref,
    features: ref.features.map((f) =>
      by.has(f.name) ? { ...f, frequencies: by.get(f.name)!.frequencies, count: by.get(f.name)!.count ?? f.count } : f,
    ),
  };
}

/** Cohort profiles a manifest carries in its `flotilla.referenceCohorts` extension (SPEC §4.12), if any. */
function cohortsOfManifest(extensions: Record<string, unknown> | undefined): Record<string, CohortProfile> | undefined {
  const x = extensions?.[COHORT_PROFILES_EXTENSION];
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, CohortProfile>) : undefined;
}

/** Builds a reference from a bundle manifest (its `referenceProfile`, `labels` and cohort profiles). */
export function referenceFromManifest(
  m: Pick<BundleManifest, 'model' | 'labels' | 'referenceProfile' | 'extensions'>,
  extra: Pick<ModelReference, 'predictions' | 'confidence'> = {},
): { key: string; reference: ModelReference } {
  const profile: ReferenceProfile = m.referenceProfile ?? { features: [] };
  const cohorts = cohortsOfManifest(m.extensions);
  return {
    key: modelKey(m.model),
    reference: validateReference({ features: profile.features, labels: m.labels, ...extra, ...(cohorts ? { cohorts } : {}) }),
  };
}
