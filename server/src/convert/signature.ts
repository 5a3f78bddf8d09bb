// The input/output signature of a model as the registry and bundle manifest record it.

/** One named tensor of a model's interface; `null` dims are dynamic (the batch, a sequence length). */
export interface TensorSignature {
  name: string;
  /** Element type, e.g. `float32`. */
  dtype: string;
  shape: (number | null)[];
}

/** A model's inputs and outputs in graph order. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}
