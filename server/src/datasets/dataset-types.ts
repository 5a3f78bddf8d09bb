// The in-memory dataset and the metadata that names a canonical dataset version.

// The in-memory dataset is training's contract; datasets produce and consume exactly that type.
export type { Dataset } from '../training/dataset-types.ts';

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
