// Deterministic train/validation/test splits: the same seed and row count give the same split on every
// machine, so a split is recorded as (seed, fractions) rather than as lists of rows.
import { DatasetError } from './dataset-error.ts';
import type { Dataset } from './dataset-types.ts';
import { featuresPerRow } from './canonical-format.ts';
import { seededRandom } from '../random/seeded-random.ts';

export interface SplitFractions {
  /** PRNG seed, an integer in [0, 2^32). */
  seed: number;
  /** Share of rows for training; default 0.8. The three shares must sum to 1. */
  train?: number;
  /** Share for validation; default 0.1. */
  validation?: number;
  /** Share for test; default 0.1. */
  test?: number;
  /**
   * Class index per row (e.g. `data.y`). When given, each class is split on its own, so every split
   * keeps the class balance (up to rounding per class): a rare class is not left out of the test set.
   */
  stratify?: Int32Array;
}

export interface SplitIndices {
  /** Row indices, ascending; the three lists are disjoint and together cover 0..n-1. */
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/**
 * Splits rows 0..n-1: shuffle with Fisher-Yates driven by seededRandom(seed) (mulberry32), then cut. Sizes use the
 * largest-remainder method, so they always sum to n (ties go to train, then validation).
 * Throws `SPLIT_INVALID` for a bad n, seed, shares or stratify length.
 */
export function splitIndices(n: number, opts: SplitFractions): SplitIndices {
  const shares = [opts.train ?? 0.8, opts.validation ?? 0.1, opts.test ?? 0.1];
  if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) invalid(`n must be a non-negative int32, got ${n}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff)
    invalid(`seed must be an integer in [0, 2^32), got ${opts.seed}`);
  if (!shares.every((s) => Number.isFinite(s) && s >= 0)) invalid(`shares must be non-negative numbers, got ${shares.join(', ')}`);
  if (Math.abs(shares[0]! + shares[1]! + shares[2]! - 1) > 1e-9) invalid(`shares must sum to 1, got ${shares.join(' + ')}`);
  if (opts.stratify && opts.stratify.length !== n) invalid(`stratify has ${opts.stratify.length} labels for ${n} rows`);
  const rng = seededRandom(opts.seed);
  const parts: number[][] = [[], [], []];
  for (const group of groups(n, opts.stratify)) {
    shuffle(group, rng);
    const sizes = apportion(group.length, shares);
    let at = 0;
    sizes.forEach((size, p) => {
      for (let i = 0; i < size; i++) parts[p]!.push(group[at++]!);
    });
  }
  const [train, validation, test] = parts.map((p) => Int32Array.from(p).sort());
  return { train: train!, validation: validation!, test: test! };
}

/** The three splits of `data` as datasets, rows in ascending order (see splitIndices). */
export function splitDataset(data: Dataset, opts: SplitFractions): { train: Dataset; validation: Dataset; test: Dataset } {
  const s = splitIndices(data.n, opts);
  return { train: takeRows(data, s.train), validation: takeRows(data, s.validation), test: takeRows(data, s.test) };
}

/** The rows `idx` of `data`, in that order, as a new dataset. Throws `ROW_INDEX_OUT_OF_RANGE`. */
export function takeRows(data: Dataset, idx: ArrayLike<number>): Dataset {
  const f = featuresPerRow(data.featureShape);
  const x = new Float32Array(idx.length * f);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (r < 0 || r >= data.n) throw new DatasetError('ROW_INDEX_OUT_OF_RANGE', `row ${r} is outside [0, ${data.n})`);
    x.set(data.x.subarray(r * f, (r + 1) * f), i * f);
    y[i] = data.y[r]!;
  }
  return { x, y, n: idx.length, featureShape: [...data.featureShape], numClasses: data.numClasses };
}

// Rows grouped by class in ascending class order, or one group of all rows.
function groups(n: number, labels?: Int32Array): number[][] {
  if (!labels) return [Array.from({ length: n }, (_, i) => i)];
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    const g = byClass.get(c);
    if (g) g.push(i);
    else byClass.set(c, [i]);
  });
  return [...byClass.keys()].sort((a, b) => a - b).map((c) => byClass.get(c)!);
}

function shuffle(a: number[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

// Largest-remainder rounding of n * shares to integers summing to n.
function apportion(n: number, shares: number[]): number[] {
  const total = shares.reduce((a, b) => a + b, 0); // 1 within 1e-9; dividing keeps floors from overshooting n
  const exact = shares.map((s) => (n * s) / total);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left-- <= 0) break;
    sizes[i]!++;
  }
  return sizes;
}

function invalid(message: string): never {
  throw new DatasetError('SPLIT_INVALID', message);
}
