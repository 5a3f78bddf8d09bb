// Drift detection settings and their documented defaults.

/** How the detector decides that a distribution moved, and for how long it must stay moved. */
export interface DriftConfig {
  /**
   * Observations a detection window needs before it is tested (default 200). Device windows smaller than
   * this pool per (cohort, model, feature) in arrival order until they reach it; a device window at least
   * this large is a detection window of its own. 200 keeps the χ² approximation sound on 10 bins (20
   * expected per bin) and the sampling noise of PSI near (k−1)/n ≈ 0.045, well under the warn level.
   */
  minSamples: number;
  /** PSI at which a significant shift counts as a warning (default 0.1: "moderate shift" by the usual rule of thumb). */
  psiWarn: number;
  /** PSI at which a significant shift is critical (default 0.25: "major shift"). */
  psiAlert: number;
  /**
   * False discovery rate over the family of all monitored streams (every cohort × model × feature, plus
   * predictions and confidence), controlled with Benjamini-Hochberg over the χ² p-values of the windows
   * tested together (default 0.01). A window breaches only when it is both significant here and at least
   * `psiWarn` in effect size, so huge cohorts do not alert on shifts too small to matter and small ones
   * do not alert on noise.
   */
  fdr: number;
  /** Consecutive breaching windows before a stream joins an alert (default 2: one noisy window never alerts). */
  raiseAfter: number;
  /** Consecutive clean windows before a stream leaves an alert (default 3: a flapping feature stays in it). */
  clearAfter: number;
  /** PSI smoothing ε (default 1e-4; see DEFAULT_PSI_EPSILON). */
  psiEpsilon: number;
  /** Minimum expected count per χ² cell; adjacent bins are pooled to reach it (default 5). */
  minExpected: number;
  /**
   * Observations of predictions and of confidence learned as the baseline after a model first reports in a
   * cohort, when its reference gives none (default 1000, five detection windows: the baseline's own noise
   * then adds a fifth to PSI's, and the homogeneity test accounts for it).
   */
  baselineSamples: number;
}

export const DEFAULT_DRIFT_CONFIG: Readonly<DriftConfig> = Object.freeze({
  minSamples: 200,
  psiWarn: 0.1,
  psiAlert: 0.25,
  fdr: 0.01,
  raiseAfter: 2,
  clearAfter: 3,
  psiEpsilon: 1e-4,
  minExpected: 5,
  baselineSamples: 1000,
});

/** Fills defaults and refuses settings that cannot work. */
export function resolveDriftConfig(over: Partial<DriftConfig> = {}): DriftConfig {
  const c = { ...DEFAULT_DRIFT_CONFIG, ...over };
  const bad = (why: string) => new RangeError(`drift config: ${why}`);
  if (!(c.minSamples >= 1)) throw bad('minSamples must be at least 1');
  if (!(c.psiWarn > 0 && c.psiAlert >= c.psiWarn)) throw bad('need 0 < psiWarn <= psiAlert');
  if (!(c.fdr > 0 && c.fdr < 1)) throw bad('fdr must lie in (0, 1)');
  if (!(Number.isInteger(c.raiseAfter) && c.raiseAfter >= 1 && Number.isInteger(c.clearAfter) && c.clearAfter >= 1))
    throw bad('raiseAfter and clearAfter must be positive integers');
  if (!(c.psiEpsilon >= 0) || !(c.minExpected >= 0) || !(c.baselineSamples >= 1))
    throw bad('psiEpsilon and minExpected must be >= 0, baselineSamples >= 1');
  return c;
}
