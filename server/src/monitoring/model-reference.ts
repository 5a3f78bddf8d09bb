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
}

/** `name@version`: how telemetry, references and alerts name a model version. */
export const modelKey = (m: { name: string; version: string }): string => `${m.name}@${m.version}`;

const SUM_TOLERANCE = 1e-6;

function checkFrequencies(what: string, f: readonly number[]): void {
  if (f.length === 0 || f.some((x) => !(x >= 0) || !Number.isFinite(x))) throw new MonitoringError('INVALID_REFERENCE', `${what}: frequencies must be finite and >= 0`);
  const s = f.reduce((a, b) => a + b, 0);
  if (Math.abs(s - 1) > SUM_TOLERANCE) throw new MonitoringError('INVALID_REFERENCE', `${what}: frequencies sum to ${s}, not 1`);
}

function checkEdges(what: string, edges: readonly number[], bins: number): void {
  if (edges.length !== bins + 1) throw new MonitoringError('INVALID_REFERENCE', `${what}: ${edges.length} edges for ${bins} bins (need ${bins + 1})`);
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i]! > edges[i - 1]!)) throw new MonitoringError('INVALID_REFERENCE', `${what}: edges must increase strictly`);
  }
}

/** Refuses a reference the detector could not use, naming the first problem (code INVALID_REFERENCE). */
export function validateReference(ref: ModelReference): ModelReference {
  const names = new Set<string>();
  for (const f of ref.features) {
    if (!f.name || names.has(f.name)) throw new MonitoringError('INVALID_REFERENCE', `feature name '${f.name}' is empty or repeated`);
    if (f.name.startsWith('@')) throw new MonitoringError('INVALID_REFERENCE', `feature name '${f.name}': names starting with '@' are reserved`);
    names.add(f.name);
    checkEdges(`feature '${f.name}'`, f.edges, f.frequencies.length);
    checkFrequencies(`feature '${f.name}'`, f.frequencies);
  }
  if (ref.predictions) {
    checkFrequencies('predictions', ref.predictions);
    if (ref.labels && ref.labels.length !== ref.predictions.length) throw new MonitoringError('INVALID_REFERENCE', `predictions: ${ref.predictions.length} shares for ${ref.labels.length} labels`);
  }
  if (ref.confidence) {
    checkEdges('confidence', ref.confidence.edges, ref.confidence.frequencies.length);
    checkFrequencies('confidence', ref.confidence.frequencies);
  }
  return ref;
}

/** Builds a reference from a bundle manifest (its `referenceProfile` and `labels`). */
export function referenceFromManifest(m: Pick<BundleManifest, 'model' | 'labels' | 'referenceProfile'>, extra: Pick<ModelReference, 'predictions' | 'confidence'> = {}): { key: string; reference: ModelReference } {
  const profile: ReferenceProfile = m.referenceProfile ?? { features: [] };
  return { key: modelKey(m.model), reference: validateReference({ features: profile.features, labels: m.labels, ...extra }) };
}
