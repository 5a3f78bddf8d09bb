// The input/output signature of a classifier trained here: what the ONNX export and bundles declare.

export interface TensorSpec {
  name: string;
  dtype: 'float32' | 'int64' | 'int32' | 'uint8';
  /** -1 marks the dynamic batch dimension. */
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function classifierSignature(featureShape: number[], numClasses: number): ModelSignature {
  return {
    inputs: [{ name: 'input', dtype: 'float32', shape: [-1, ...featureShape] }],
    outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, numClasses] }],
  };
}
