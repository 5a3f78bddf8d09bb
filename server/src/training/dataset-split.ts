// Deterministic, stratified train/validation/test splits and row selection for in-memory datasets.
import { featureSize, type Dataset } from './dataset-types.ts';
import { mulberry32, shuffleInPlace } from './prng.ts';

/** A copy of the rows `indices` of `ds`, in that order. */
export function takeRows(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const fs = featureSize(ds);
  const x = new Float32Array(indices.length * fs);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    x.set(ds.x.subarray(r * fs, (r + 1) * fs), i * fs);
    y[i] = ds.y[r]!;
  }
  return { x, y, n: indices.length, featureShape: [...ds.featureShape], numClasses: ds.numClasses };
}

/**
 * Splits `ds` into train/validation/test by the given fractions (default 0.8/0.1/0.1), per class so
 * each split keeps the class mix, then shuffles each split. Same seed, same split.
 */
export function splitDataset(
  ds: Dataset,
  seed: number,
  fractions: { train: number; validation: number; test: number } = { train: 0.8, validation: 0.1, test: 0.1 },
): { train: Dataset; validation: Dataset; test: Dataset } {
  const total = fractions.train + fractions.validation + fractions.test;
  const random = mulberry32(seed);
  const parts: number[][] = [[], [], []];
  for (let c = 0; c < ds.numClasses; c++) {
    const rows: number[] = [];
    for (let i = 0; i < ds.n; i++) if (ds.y[i] === c) rows.push(i);
    shuffleInPlace(rows, random);
    const nTrain = Math.round((rows.length * fractions.train) / total);
    const nVal = Math.round((rows.length * fractions.validation) / total);
    parts[0]!.push(...rows.slice(0, nTrain));
    parts[1]!.push(...rows.slice(nTrain, nTrain + nVal));
    parts[2]!.push(...rows.slice(nTrain + nVal));
  }
  const [train, validation, test] = parts.map((p) => takeRows(ds, shuffleInPlace(p, random))) as [Dataset, Dataset, Dataset];
  return { train, validation, test };
}
