// The bundled MNIST digits load offline and deterministically; splits are stratified and reproducible.
import { describe, expect, it } from 'vitest';
import { splitDataset } from '../datasets/splits.ts';
import { loadMnist } from '../datasets/mnist-data.ts';
import { deriveSeed, seededRandom, shuffleInPlace } from '../random/seeded-random.ts';
import { findDropoutLayers, reseedDropout } from './layer-seeds.ts';

/** Byte-wise equality; vitest's deep equality is far too slow for millions of floats. */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const counts = (y: Int32Array) => Array.from({ length: 10 }, (_, c) => y.filter((v) => v === c).length);

describe('loadMnist', () => {
  it('loads the 10,000 digits as [28,28,1] images with pixels in 0..1', async () => {
    const ds = await loadMnist();
    expect(ds).toMatchObject({ n: 10_000, featureShape: [28, 28, 1], numClasses: 10 });
    expect(ds.x).toHaveLength(10_000 * 784);
    expect(counts(ds.y)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(ds.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const again = await loadMnist();
    expect(sameBytes(again.x, ds.x)).toBe(true);
    expect(sameBytes(again.y, ds.y)).toBe(true);
  });
});

describe('splitDataset', () => {
  it('splits 80/10/10 per class, disjointly, the same way for the same seed', async () => {
    const ds = await loadMnist();
    const split = (seed: number) => splitDataset(ds, { seed, stratify: ds.y });
    const a = split(7);
    expect(a.train.n + a.validation.n + a.test.n).toBe(ds.n);
    expect(Math.abs(a.train.n - 8000)).toBeLessThanOrEqual(10);
    // Stratified: every class keeps its share in the test split (to rounding).
    counts(a.test.y).forEach((c, k) => expect(Math.abs(c - counts(ds.y)[k]! / 10)).toBeLessThanOrEqual(1));
    const b = split(7);
    expect(sameBytes(b.test.x, a.test.x) && sameBytes(b.train.y, a.train.y)).toBe(true);
    expect(sameBytes(split(8).test.x, a.test.x)).toBe(false);
    // Disjoint and complete: every image lands in exactly one split (pixel sums as fingerprints).
    const key = (x: Float32Array, i: number) =>
      x
        .subarray(i * 784, (i + 1) * 784)
        .reduce((s, v, j) => s + v * (j + 1), 0)
        .toFixed(3);
    const all = [a.train, a.validation, a.test].flatMap((d) => Array.from({ length: d.n }, (_, i) => key(d.x, i)));
    const orig = Array.from({ length: ds.n }, (_, i) => key(ds.x, i));
    expect(all.sort()).toEqual(orig.sort());
  });
});

describe('seeded randomness', () => {
  it('shuffles reproducibly', () => {
    const a = shuffleInPlace([...Array(20).keys()], seededRandom(1));
    expect(shuffleInPlace([...Array(20).keys()], seededRandom(1))).toEqual(a);
    expect(shuffleInPlace([...Array(20).keys()], seededRandom(2))).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });

  it('gives dropout a fresh but reproducible seed every step', () => {
    const layers = [{ seed: 0 }, { seed: 0 }];
    reseedDropout(layers, 42, 0);
    const step0 = layers.map((l) => l.seed);
    reseedDropout(layers, 42, 1);
    const step1 = layers.map((l) => l.seed);
    expect(step1).not.toEqual(step0);
    expect(new Set([...step0, ...step1]).size).toBe(4);
    reseedDropout(layers, 42, 0);
    expect(layers.map((l) => l.seed)).toEqual(step0);
    expect(deriveSeed(42, 1)).not.toBe(deriveSeed(43, 1));
    expect(typeof findDropoutLayers).toBe('function');
  });
});
