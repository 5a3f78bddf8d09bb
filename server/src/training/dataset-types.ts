// The in-memory dataset contract shared by training, evaluation and the dataset loaders.

/**
 * A labelled classification dataset held in memory.
 * `x` is row-major: sample `i` occupies `x[i * featureSize .. (i + 1) * featureSize)`, where
 * featureSize is the product of `featureShape`. Features are stored already scaled
 * (MNIST pixels are 0..1); nothing downstream rescales them.
 */
export interface Dataset {
  /** Features, `n * product(featureShape)` values. */
  x: Float32Array;
  /** Class index per sample, each in `0 .. numClasses - 1`. */
  y: Int32Array;
  /** Number of samples. */
  n: number;
  /** Shape of one sample, e.g. `[28, 28, 1]` for MNIST. */
  featureShape: number[];
  /** Number of classes the labels range over. */
  numClasses: number;
}

/** Number of feature values per sample (product of `featureShape`). */
export function featureSize(ds: Pick<Dataset, 'featureShape'>): number {
  return ds.featureShape.reduce((a, b) => a * b, 1);
}
