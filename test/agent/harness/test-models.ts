// Small real ONNX classifiers for agent tests, built with the bundler's graph helpers (a few KB each).
import { DataType, encodeModel, floatTensor, makeModel, makeNode, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import * as ort from 'onnxruntime-node';

/** Shape of the test classifier: x[N, inputs] → relu(x·W1 + b1)·W2 + b2 → softmax → y[N, classes]. */
export interface ClassifierSpec {
  inputs?: number;
  hidden?: number;
  classes?: number;
  /** Seeds the first layer (shared between versions so their chunks are reused). */
  seed?: number;
  /** Seeds the last layer: what differs between two versions. */
  headSeed?: number;
  /** Input name. Default 'x'. */
  inputName?: string;
}

/** A deterministic pseudo-random sequence in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** ONNX bytes of a two-layer classifier; the first layer dominates the size (inputs × hidden floats). */
export function classifierModel(spec: ClassifierSpec = {}): Uint8Array {
  const { inputs = 16, hidden = 64, classes = 3, seed = 1, headSeed = 2, inputName = 'x' } = spec;
  const graph = {
    name: 'classifier',
    node: [
      makeNode('MatMul', [inputName, 'W1'], ['h0']),
      makeNode('Add', ['h0', 'b1'], ['h1']),
      makeNode('Relu', ['h1'], ['h']),
      makeNode('MatMul', ['h', 'W2'], ['z0']),
      makeNode('Add', ['z0', 'b2'], ['z']),
      makeNode('Softmax', ['z'], ['y'], { axis: -1 }),
    ],
    initializer: [
      floatTensor('W1', [inputs, hidden], values(inputs * hidden, seed)),
      floatTensor('b1', [hidden], values(hidden, seed + 100)),
      floatTensor('W2', [hidden, classes], values(hidden * classes, headSeed)),
      floatTensor('b2', [classes], values(classes, headSeed + 100)),
    ],
    input: [makeValueInfo(inputName, DataType.FLOAT, ['N', inputs])],
    output: [makeValueInfo('y', DataType.FLOAT, ['N', classes])],
  };
  return encodeModel(makeModel(graph));
}

/** Runs `model` on one row with onnxruntime-node: the reference outputs for self-test vectors. */
export async function referenceOutputs(model: Uint8Array, row: number[], inputName = 'x'): Promise<number[]> {
  const s = await ort.InferenceSession.create(model);
  try {
    const out = await s.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(row), [1, row.length]) });
    return Array.from(out[s.outputNames[0]!]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

/** A deterministic input row of `n` values in [-1, 1). */
export function sampleRow(n: number, seed = 42): number[] {
  return values(n, seed);
}
