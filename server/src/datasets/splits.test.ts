// Splits: the same seed gives the same split, the parts are disjoint and complete, stratification holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatasetError } from './dataset-error.ts';
import type { Dataset } from './dataset-types.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { splitIndices, takeRows } from './splits.ts';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof DatasetError ? e.code : 'not a DatasetError';
  }
  return undefined;
}

describe('seededRandom', () => {
  it('produces the pinned sequence, so recorded seeds keep meaning the same split', () => {
    const rng = seededRandom(42);
    const first = Array.from({ length: 4 }, () => Math.round(rng() * 2 ** 32));
    expect(first).toEqual(PINNED_42);
    const r = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('splitIndices', () => {
  it('is deterministic from the seed and changes with it', () => {
    const a = splitIndices(1000, { seed: 1 });
    expect(splitIndices(1000, { seed: 1 })).toEqual(a);
    expect(splitIndices(1000, { seed: 2 }).test).not.toEqual(a.test);
  });

  it('returns disjoint ascending parts that cover every row, sized by largest remainder', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.nat(2 ** 32 - 1),
        fc.constantFrom([0.8, 0.1, 0.1], [0.7, 0.15, 0.15], [1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]),
        (n, seed, [train, validation, test]) => {
          const s = splitIndices(n, { seed, train, validation, test });
          const all = [...s.train, ...s.validation, ...s.test].sort((x, y) => x - y);
          expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
          for (const part of [s.train, s.validation, s.test]) expect(Array.from(part)).toEqual([...part].sort((x, y) => x - y));
          const sizes = [s.train.length, s.validation.length, s.test.length];
          [train!, validation!, test!].forEach((share, i) => expect(Math.abs(sizes[i]! - n * share)).toBeLessThan(1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('uses 80/10/10 by default', () => {
    const s = splitIndices(1000, { seed: 9 });
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([800, 100, 100]);
  });

  it('stratifies: every class keeps its share in every part, even a rare one', () => {
    const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 950 ? 0 : 1)); // 5% class 1
    const s = splitIndices(1000, { seed: 3, stratify: labels });
    const ones = (idx: Int32Array) => Array.from(idx).filter((i) => labels[i] === 1).length;
    expect([ones(s.train), ones(s.validation), ones(s.test)]).toEqual([40, 5, 5]);
    expect(splitIndices(1000, { seed: 3, stratify: labels })).toEqual(s);
  });

  it('refuses bad arguments with SPLIT_INVALID', () => {
    expect(code(() => splitIndices(-1, { seed: 1 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(1.5, { seed: 1 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: -1 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 2 ** 32 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 0.5 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 1, train: 0.9 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 1, train: 1.1, test: -0.1, validation: 0 }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 1, train: NaN }))).toBe('SPLIT_INVALID');
    expect(code(() => splitIndices(10, { seed: 1, stratify: new Int32Array(9) }))).toBe('SPLIT_INVALID');
  });
});

describe('takeRows', () => {
  const data: Dataset = {
    x: Float32Array.from({ length: 8 }, (_, i) => i),
    y: new Int32Array([0, 1, 2, 1]),
    n: 4,
    featureShape: [2, 1],
    numClasses: 3,
  };

  it('gathers whole rows in the given order', () => {
    const t = takeRows(data, new Int32Array([3, 0]));
    expect(t).toEqual({ x: new Float32Array([6, 7, 0, 1]), y: new Int32Array([1, 0]), n: 2, featureShape: [2, 1], numClasses: 3 });
    expect(takeRows(data, new Int32Array(0)).n).toBe(0);
  });

  it('partitions a dataset through a split without losing or repeating a row', () => {
    const s = splitIndices(4, { seed: 5, train: 0.5, validation: 0.25, test: 0.25 });
    const parts = [s.train, s.validation, s.test].map((idx) => takeRows(data, idx));
    expect(parts.reduce((a, p) => a + p.n, 0)).toBe(4);
    expect(parts.flatMap((p) => Array.from(p.x)).sort((a, b) => a - b)).toEqual(Array.from(data.x));
  });

  it('refuses an index outside the dataset', () => {
    expect(code(() => takeRows(data, new Int32Array([4])))).toBe('ROW_INDEX_OUT_OF_RANGE');
    expect(code(() => takeRows(data, new Int32Array([-1])))).toBe('ROW_INDEX_OUT_OF_RANGE');
  });
});

// The first outputs of seededRandom(42), times 2^32.
const PINNED_42 = [2581720956, 1925393290, 3661312704, 2876485805];
