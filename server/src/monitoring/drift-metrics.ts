// Distribution distances between observed counts and expected frequencies: PSI, Jensen-Shannon, chi-square.
import { MonitoringError } from './monitoring-error.ts';
import { chiSquareSurvival } from './special-functions.ts';

/**
 * Default PSI smoothing. Every share p is replaced by (p + ε) / (1 + kε) on both sides, so an empty bin
 * costs a finite amount (ln(q/ε) at most ≈ 9.2 per unit of mass) instead of an infinite one, and
 * the shares still sum to 1. 1e-4 is the value most PSI implementations use (e.g. Evidently).
 */
export const DEFAULT_PSI_EPSILON = 1e-4;

/**
 * Default minimum expected count per chi-square cell. Adjacent bins are pooled until each cell expects at
 * least 5 observations, the textbook condition for the χ² approximation to hold.
 */
export const DEFAULT_MIN_EXPECTED = 5;

export interface ChiSquareResult {
  statistic: number;
  /** Degrees of freedom after pooling (0 when everything pooled into one cell: nothing to test). */
  dof: number;
  /** P(χ²(dof) ≥ statistic); 1 when dof is 0. */
  pValue: number;
}

/** Everything the detector needs about one comparison. */
export interface DriftScores extends ChiSquareResult {
  psi: number;
  /** Jensen-Shannon distance (base 2), in [0, 1]. */
  js: number;
  /** Observations compared. */
  n: number;
}

export const sum = (xs: readonly number[]): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

function checkCounts(counts: readonly number[], expected: readonly number[], what: string): void {
  if (counts.length !== expected.length)
    throw new MonitoringError('INVALID_COUNTS', `${what}: ${counts.length} counts against ${expected.length} expected bins`);
  if (counts.length === 0) throw new MonitoringError('INVALID_COUNTS', `${what}: no bins`);
  for (let i = 0; i < counts.length; i++) {
    if (!(counts[i]! >= 0) || !(expected[i]! >= 0))
      throw new MonitoringError('INVALID_COUNTS', `${what}: bin ${i} is negative or not a number`);
  }
}

/** Shares of a non-negative vector, with optional additive smoothing ε (see DEFAULT_PSI_EPSILON). */
export function shares(v: readonly number[], epsilon = 0): number[] {
  const total = sum(v);
  const k = v.length;
  return v.map((x) => (total > 0 ? x / total + epsilon : 1 / k + epsilon) / (1 + k * epsilon));
}

/**
 * Population stability index Σ (pᵢ − qᵢ) ln(pᵢ / qᵢ) of observed `counts` against `expected` frequencies
 * (or counts: both are normalised), with ε smoothing. 0 when nothing was observed.
 * Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
 */
export function psi(counts: readonly number[], expected: readonly number[], epsilon = DEFAULT_PSI_EPSILON): number {
  checkCounts(counts, expected, 'psi');
  if (sum(counts) === 0) return 0;
  const p = shares(counts, epsilon);
  const q = shares(expected, epsilon);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - q[i]!) * Math.log(p[i]! / q[i]!);
  return s;
}

/** Jensen-Shannon distance: √JSD with base-2 logarithms, so it lies in [0, 1]. No smoothing is needed. 0 when nothing was observed. */
export function jensenShannon(counts: readonly number[], expected: readonly number[]): number {
  checkCounts(counts, expected, 'jensenShannon');
  if (sum(counts) === 0) return 0;
  const p = shares(counts);
  const q = shares(expected);
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) d += 0.5 * p[i]! * Math.log2(p[i]! / m);
    if (q[i]! > 0) d += 0.5 * q[i]! * Math.log2(q[i]! / m);
  }
  // Rounding can leave a hair below 0 or above 1.
  return Math.sqrt(Math.min(1, Math.max(0, d)));
}

/**
 * Groups adjacent bins so each group's weight reaches `min`; a short tail joins the group before it.
 * Returns the group index of every bin.
 */
function poolAdjacent(weights: readonly number[], min: number): { groupOf: number[]; groups: number } {
  const groupOf: number[] = [];
  let group = 0;
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    groupOf.push(group);
    acc += weights[i]!;
    if (acc >= min && i < weights.length - 1) {
      group++;
      acc = 0;
    }
  }
  if (group > 0 && acc < min) {
    for (let i = 0; i < groupOf.length; i++) if (groupOf[i] === group) groupOf[i] = group - 1;
    group--;
  }
  return { groupOf, groups: group + 1 };
}

function pooled(v: readonly number[], groupOf: readonly number[], groups: number): number[] {
  const out = new Array<number>(groups).fill(0);
  for (let i = 0; i < v.length; i++) out[groupOf[i]!]! += v[i]!;
  return out;
}

/**
 * Pearson goodness-of-fit of `counts` against `expected` frequencies. Adjacent bins are pooled until each
 * cell expects at least `minExpected` observations (default 5), which also absorbs zero-frequency bins.
 */
export function chiSquareGoodnessOfFit(
  counts: readonly number[],
  expected: readonly number[],
  minExpected = DEFAULT_MIN_EXPECTED,
): ChiSquareResult {
  checkCounts(counts, expected, 'chiSquareGoodnessOfFit');
  const n = sum(counts);
  if (n === 0) return { statistic: 0, dof: 0, pValue: 1 };
  const e = shares(expected).map((q) => q * n);
  const { groupOf, groups } = poolAdjacent(e, minExpected);
  const o = pooled(counts, groupOf, groups);
  const pe = pooled(e, groupOf, groups);
  let x2 = 0;
  for (let g = 0; g < groups; g++) {
    if (pe[g]! > 0) x2 += (o[g]! - pe[g]!) ** 2 / pe[g]!;
    else if (o[g]! > 0) x2 = Infinity;
  }
  const dof = groups - 1;
  return { statistic: x2, dof, pValue: x2 === Infinity ? 0 : chiSquareSurvival(x2, dof) };
}

/**
 * Pearson test of homogeneity of two count vectors (a 2×k table): did `a` and `b` come from one
 * distribution? Used against a baseline learned from data, whose own sampling noise a goodness-of-fit
 * test would ignore. Bins are pooled until every cell expects at least `minExpected` observations.
 */
export function chiSquareHomogeneity(a: readonly number[], b: readonly number[], minExpected = DEFAULT_MIN_EXPECTED): ChiSquareResult {
  checkCounts(a, b, 'chiSquareHomogeneity');
  const na = sum(a);
  const nb = sum(b);
  if (na === 0 || nb === 0) return { statistic: 0, dof: 0, pValue: 1 };
  const total = na + nb;
  // A column's smaller expected cell is its total times the smaller row share.
  const minShare = Math.min(na, nb) / total;
  const columns = a.map((x, i) => (x + b[i]!) * minShare);
  const { groupOf, groups } = poolAdjacent(columns, minExpected);
  const pa = pooled(a, groupOf, groups);
  const pb = pooled(b, groupOf, groups);
  let x2 = 0;
  for (let g = 0; g < groups; g++) {
    const col = pa[g]! + pb[g]!;
    if (col === 0) continue;
    const ea = (col * na) / total;
    const eb = (col * nb) / total;
    x2 += (pa[g]! - ea) ** 2 / ea + (pb[g]! - eb) ** 2 / eb;
  }
  const dof = groups - 1;
  return { statistic: x2, dof, pValue: chiSquareSurvival(x2, dof) };
}

/** PSI, JS and a goodness-of-fit p-value of `counts` against reference `frequencies`. */
export function scoreAgainstReference(
  counts: readonly number[],
  frequencies: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
  minExpected = DEFAULT_MIN_EXPECTED,
): DriftScores {
  return scoresWith(counts, frequencies, epsilon, () => chiSquareGoodnessOfFit(counts, frequencies, minExpected));
}

/** PSI, JS and a homogeneity p-value of `counts` against a baseline learned as counts. */
export function scoreAgainstBaseline(
  counts: readonly number[],
  baseline: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
  minExpected = DEFAULT_MIN_EXPECTED,
): DriftScores {
  return scoresWith(counts, baseline, epsilon, () => chiSquareHomogeneity(counts, baseline, minExpected));
}

/** PSI and JS of `counts` against `expected` (shares or counts: both normalise), then the chi-square test that fits how `expected` was learned. */
function scoresWith(counts: readonly number[], expected: readonly number[], epsilon: number, test: () => ChiSquareResult): DriftScores {
  return { psi: psi(counts, expected, epsilon), js: jensenShannon(counts, expected), n: sum(counts), ...test() };
}

function cellTerm(o: number, e: number): number {
  return e > 0 ? ((o - e) * (o - e)) / e : o > 0 ? Infinity : 0;
}

/** Reference shares prepared once per stream, so scoring a window allocates nothing. */
export interface PreparedReference {
  /** Normalised shares. */
  q: Float64Array;
  /** ln of the ε-smoothed shares. */
  logQs: Float64Array;
  /** ε-smoothed shares. */
  qs: Float64Array;
  epsilon: number;
}

export function prepareReference(frequencies: readonly number[], epsilon = DEFAULT_PSI_EPSILON): PreparedReference {
  const q = Float64Array.from(shares(frequencies));
  const qs = Float64Array.from(shares(frequencies, epsilon));
  return { q, qs, logQs: qs.map(Math.log), epsilon };
}

/**
 * PSI, JS and the goodness-of-fit p-value in one pass over the bins, equal to `scoreAgainstReference`
 * (the hot path: every detection window of every stream goes through it).
 */
export function scorePrepared(counts: readonly number[], ref: PreparedReference, minExpected = DEFAULT_MIN_EXPECTED): DriftScores {
  const k = ref.q.length;
  if (counts.length !== k) throw new MonitoringError('INVALID_COUNTS', `score: ${counts.length} counts against ${k} expected bins`);
  let n = 0;
  for (let i = 0; i < k; i++) {
    const c = counts[i]!;
    if (!(c >= 0)) throw new MonitoringError('INVALID_COUNTS', `score: bin ${i} is negative or not a number`);
    n += c;
  }
  if (n === 0) return { psi: 0, js: 0, n: 0, statistic: 0, dof: 0, pValue: 1 };
  const eps = ref.epsilon;
  const norm = 1 + k * eps;
  let psiSum = 0;
  let jsd = 0;
  // χ² with adjacent bins pooled until a cell expects minExpected; `prev*` lets a short tail rejoin the cell before.
  let x2 = 0;
  let cells = 0;
  let o = 0;
  let e = 0;
  let prevO = 0;
  let prevE = 0;
  let infinite = false;
  for (let i = 0; i < k; i++) {
    const c = counts[i]!;
    const p = c / n;
    const ps = (p + eps) / norm;
    psiSum += (ps - ref.qs[i]!) * (Math.log(ps) - ref.logQs[i]!);
    const q = ref.q[i]!;
    const m = (p + q) / 2;
    if (p > 0) jsd += 0.5 * p * Math.log2(p / m);
    if (q > 0) jsd += 0.5 * q * Math.log2(q / m);
    o += c;
    e += q * n;
    if (e >= minExpected && i < k - 1) {
      const t = cellTerm(o, e);
      if (t === Infinity) infinite = true;
      x2 += t;
      prevO = o;
      prevE = e;
      cells++;
      o = 0;
      e = 0;
    }
  }
  if (cells > 0 && e < minExpected) {
    x2 -= cellTerm(prevO, prevE);
    x2 += cellTerm(prevO + o, prevE + e);
  } else {
    x2 += cellTerm(o, e);
    cells++;
  }
  const dof = cells - 1;
  const statistic = infinite || x2 === Infinity ? Infinity : Math.max(0, x2);
  const pValue = statistic === Infinity ? 0 : chiSquareSurvival(statistic, dof);
  return {
    psi: psiSum,
    js: Math.sqrt(Math.min(1, Math.max(0, jsd))),
    n,
    statistic: dof === 0 ? 0 : statistic,
    dof,
    pValue: dof === 0 ? 1 : pValue,
  };
}
