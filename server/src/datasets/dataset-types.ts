// The in-memory dataset (what training, evaluation and the loaders share) and the metadata that names a
// canonical dataset version.

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

/** The header of a canonical dataset version (see canonical-format.ts). */
export interface DatasetMeta {
  /** Names of the flattened features, in storage order; empty when unnamed (e.g. image pixels). */
  featureNames: string[];
  /** Shape of one row's features, e.g. [13] for a CSV with 13 feature columns, [28, 28, 1] for MNIST. */
  featureShape: number[];
  /** Label strings, in canonical sorted order; stored labels are indices into this list. */
  classes: string[];
  /** Number of rows. */
  rows: number;
  /** Element type of the features; only float32 exists today. */
  dtype: 'float32';
}
