// A small real ONNX model with typed, named, dynamic inputs and outputs for named-tensor tests: int64 token
// ids, a bool mask and a float16 state in; the new float16 state and an int64 count out.
import { DataType, encodeModel, floatTensor, int64Tensor, makeModel, makeNode, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import type { IoSignature } from '@flotilla/firmware-bundler';

/** Width of the state and of each token's embedding. */
export const STATE = 4;
/** Token ids run 0..VOCAB-1. */
export const VOCAB = 10;

/**
 * hn = h0 + Σ_s mask[n,s] · E[ids[n,s]] (float16 state in, float16 state out), count = Σ_s mask[n,s] (int64):
 * a stateful model in miniature, with batch `N` and sequence `S` dynamic.
 */
export function typedModel(): Uint8Array {
  const emb = Array.from({ length: VOCAB * STATE }, (_, i) => ((i * 37) % 17) / 8 - 1);
  const graph = {
    name: 'typed',
    node: [
      makeNode('Gather', ['E', 'ids'], ['emb'], { axis: 0 }),
      makeNode('Cast', ['mask'], ['maskf'], { to: DataType.FLOAT }),
      makeNode('Unsqueeze', ['maskf', 'axis2'], ['mask3']),
      makeNode('Mul', ['emb', 'mask3'], ['masked']),
      makeNode('ReduceSum', ['masked', 'axis1'], ['sum'], { keepdims: 0 }),
      makeNode('Cast', ['h0'], ['h0f'], { to: DataType.FLOAT }),
      makeNode('Add', ['sum', 'h0f'], ['hnf']),
      makeNode('Cast', ['hnf'], ['hn'], { to: DataType.FLOAT16 }),
      makeNode('Cast', ['mask'], ['maski'], { to: DataType.INT64 }),
      makeNode('ReduceSum', ['maski', 'axis1'], ['count'], { keepdims: 0 }),
    ],
    initializer: [floatTensor('E', [VOCAB, STATE], emb), int64Tensor('axis1', [1], [1]), int64Tensor('axis2', [1], [2])],
    input: [
      makeValueInfo('ids', DataType.INT64, ['N', 'S']),
      makeValueInfo('mask', DataType.BOOL, ['N', 'S']),
      makeValueInfo('h0', DataType.FLOAT16, ['N', STATE]),
    ],
    output: [makeValueInfo('hn', DataType.FLOAT16, ['N', STATE]), makeValueInfo('count', DataType.INT64, ['N'])],
  };
  return encodeModel(makeModel(graph));
}

/** The manifest signature of {@link typedModel}. */
export const TYPED_SIGNATURE: IoSignature = {
  inputs: [
    { name: 'ids', dtype: 'int64', shape: [null, null] },
    { name: 'mask', dtype: 'bool', shape: [null, null] },
    { name: 'h0', dtype: 'float16', shape: [null, STATE] },
  ],
  outputs: [
    { name: 'hn', dtype: 'float16', shape: [null, STATE] },
    { name: 'count', dtype: 'int64', shape: [null] },
  ],
};
