// Helpers for the training tests only: small, class-mixed MNIST subsets (the package lists every 0 first).
import { splitDataset, takeRows } from '../datasets/splits.ts';
import { seededRandom, shuffleInPlace } from '../random/seeded-random.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { loadMnist } from '../datasets/mnist-data.ts';

/** `n` rows of `data` drawn without replacement in a seeded order, so every class shows up early. */
export function sampleRows(data: Dataset, n: number, seed: number): Dataset {
  const order = shuffleInPlace(
    Array.from({ length: data.n }, (_, i) => i),
    seededRandom(seed),
  );
  return takeRows(data, order.slice(0, n));
}

/** The stratified split of MNIST by `seed`, the way a run splits its dataset. */
export async function mnistSplit(seed: number): Promise<{ train: Dataset; validation: Dataset; test: Dataset }> {
  const ds = await loadMnist();
  return splitDataset(ds, { seed, stratify: ds.y });
}
