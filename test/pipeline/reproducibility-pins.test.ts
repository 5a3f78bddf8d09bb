// Pinned outputs of the reproducibility path, computed with the code as it stood before its duplicates
// were folded into one: a recorded digest or split seed must keep naming the same rows forever.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeDataset } from '../../server/src/datasets/canonical-format.ts';
import { canonicalJson } from '@flotilla/firmware-bundler';
import { splitIndices, takeRows } from '../../server/src/datasets/splits.ts';
import { seededRandom } from '../../server/src/random/seeded-random.ts';
import { randomPoints } from '../../server/src/runs/sweep-service.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const n = 30;
const meta = { featureNames: ['a', 'b', 'ü'], featureShape: [3], classes: ['cat', 'dog', 'émeu'], rows: n, dtype: 'float32' as const };
const data = {
  x: Float32Array.from({ length: n * 3 }, (_, i) => Math.sin(i) * 10 - (i % 7 === 0 ? 0 : 0.5)),
  y: Int32Array.from({ length: n }, (_, i) => (i * 7) % 3),
  n,
  featureShape: [3],
  numClasses: 3,
};
const lists = (s: { train: Int32Array; validation: Int32Array; test: Int32Array }) => ({
  train: [...s.train],
  validation: [...s.validation],
  test: [...s.test],
});

describe('reproducibility pins', () => {
  it('names a dataset version by the same digest', () => {
    expect(sha256(encodeDataset(meta, data))).toBe('b25240930236e14495867c3329a6a61107d5f52f7d2acf9f3b0788e31a29306d');
  });

  it('splits the same rows for a recorded seed, plain and stratified', () => {
    expect(lists(splitIndices(n, { seed: 1234 }))).toEqual({
      train: [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 27, 28],
      validation: [1, 26, 29],
      test: [2, 20, 25],
    });
    const strat = splitIndices(n, { seed: 99, train: 0.6, validation: 0.2, test: 0.2, stratify: data.y });
    expect(lists(strat)).toEqual({
      train: [0, 2, 3, 4, 5, 9, 11, 13, 15, 16, 18, 20, 22, 23, 25, 26, 27, 28],
      validation: [1, 7, 12, 17, 24, 29],
      test: [6, 8, 10, 14, 19, 21],
    });
    const test = takeRows(data, strat.test);
    expect(sha256(encodeDataset({ ...meta, rows: test.n }, test))).toBe('c35a441e23a092b245c0c581ddbf17cadc116e18d8961a92cef6cbbb6b365a8a');
  });

  it('draws the same PRNG stream and sweep trials for a seed', () => {
    const r = seededRandom(2026);
    expect(Array.from({ length: 4 }, () => r())).toEqual([
      0.45540769933722913, 0.30849614599719644, 0.6611574492417276, 0.6184752183035016,
    ]);
    expect(randomPoints({ lr: [0.1, 0.01, 0.001], batch: [16, 32] }, 4, 7)).toEqual([
      { lr: 0.1, batch: 16 },
      { lr: 0.001, batch: 32 },
      { lr: 0.01, batch: 16 },
      { lr: 0.01, batch: 16 },
    ]);
  });

  it('encodes a header value canonically', () => {
    expect(canonicalJson({ b: [1, 2.5, 'é'], a: { z: null, y: true } })).toBe('{"a":{"y":true,"z":null},"b":[1,2.5,"é"]}');
  });
});
