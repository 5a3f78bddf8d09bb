// Shape and type inference: static arithmetic where sizes are known, symbols kept where they are not.
import { describe, expect, it } from 'vitest';
import { float, makeNode, makeValueInfo } from './graph-builder.ts';
import { DataType, type GraphProto, type NodeProto, type TensorProto } from './onnx-types.ts';
import { inferShapes } from './shape-inference.ts';
import { floatTensor, int64Tensor } from './tensor-data.ts';

function graphOf(nodes: NodeProto[], inits: TensorProto[], inputs: Record<string, (number | string)[]>): GraphProto {
  return {
    node: nodes,
    initializer: inits,
    input: Object.entries(inputs).map(([n, d]) => makeValueInfo(n, DataType.FLOAT, d)),
    output: [],
  };
}

describe('inferShapes', () => {
  it('follows a CNN classifier with a symbolic batch: Conv, ceil-mode MaxPool, Flatten, Gemm, Softmax', () => {
    const g = graphOf(
      [
        makeNode('Conv', ['x', 'w'], ['c'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
        makeNode('MaxPool', ['c'], ['p'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
        makeNode('Conv', ['p', 'w2'], ['d'], { dilations: [2, 2] }),
        makeNode('GlobalAveragePool', ['d'], ['gap']),
        makeNode('Flatten', ['gap'], ['f']),
        makeNode('Gemm', ['f', 'fc'], ['logits'], { transB: 1 }),
        makeNode('Softmax', ['logits'], ['y'], { axis: 1 }),
      ],
      [
        floatTensor('w', [8, 3, 3, 3], new Float32Array(216)),
        floatTensor('w2', [4, 8, 3, 3], new Float32Array(288)),
        floatTensor('fc', [10, 4], new Float32Array(40)),
      ],
      { x: ['batch', 3, 33, 33] },
    );
    const { info } = inferShapes(g);
    expect(info.get('c')?.dims).toEqual(['batch', 8, 17, 17]);
    expect(info.get('p')?.dims).toEqual(['batch', 8, 8, 8]);
    expect(info.get('d')?.dims).toEqual(['batch', 4, 4, 4]);
    expect(info.get('f')?.dims).toEqual(['batch', 4]);
    expect(info.get('y')).toEqual({ elemType: DataType.FLOAT, dims: ['batch', 10] });
  });

  it('types shape arithmetic (Shape → Gather → Unsqueeze → Concat → Reshape) and keeps unknown dims symbolic', () => {
    const g = graphOf(
      [
        makeNode('Shape', ['x'], ['s']),
        makeNode('Gather', ['s', 'zero'], ['n']),
        makeNode('Unsqueeze', ['n', 'axes0'], ['n1']),
        makeNode('Concat', ['n1', 'minus'], ['shape'], { axis: 0 }),
        makeNode('Reshape', ['x', 'target'], ['r']),
        makeNode('Transpose', ['r'], ['t'], { perm: [1, 0] }),
        makeNode('Equal', ['t', 't'], ['eq']),
        makeNode('Cast', ['x'], ['xi'], { to: DataType.INT32 }),
        makeNode('Slice', ['x', 'st', 'en', 'ax'], ['sl']),
        makeNode('Split', ['x'], ['a', 'b'], { axis: 2, split: [1, 3] }),
        makeNode('Pad', ['x'], ['pd'], { pads: [0, 0, 1, 0, 0, 2], value: float(0) }),
        makeNode('ReduceMean', ['x'], ['rm'], { axes: [-1], keepdims: 0 }),
      ],
      [
        int64Tensor('zero', [], [0]),
        int64Tensor('axes0', [1], [0]),
        int64Tensor('minus', [1], [-1]),
        int64Tensor('target', [2], [0, -1]),
        int64Tensor('st', [1], [1]),
        int64Tensor('en', [1], [9007199254740991]),
        int64Tensor('ax', [1], [2]),
      ],
      { x: ['N', 3, 4] },
    );
    const { info } = inferShapes(g);
    expect(info.get('s')).toEqual({ elemType: DataType.INT64, dims: [3] });
    expect(info.get('n')?.dims).toEqual([]);
    expect(info.get('shape')?.dims).toEqual([2]);
    expect(info.get('r')?.dims).toEqual(['N', 12]);
    expect(info.get('t')?.dims).toEqual([12, 'N']);
    expect(info.get('eq')?.elemType).toBe(DataType.BOOL);
    expect(info.get('xi')).toEqual({ elemType: DataType.INT32, dims: ['N', 3, 4] });
    expect(info.get('sl')?.dims).toEqual(['N', 3, 3]);
    expect([info.get('a')?.dims, info.get('b')?.dims]).toEqual([
      ['N', 3, 1],
      ['N', 3, 3],
    ]);
    expect(info.get('pd')?.dims).toEqual(['N', 3, 7]);
    expect(info.get('rm')?.dims).toEqual(['N', 3]);
  });

  it('leaves the outputs of ops it does not know unknown instead of guessing', () => {
    const g = graphOf([makeNode('Frobnicate', ['x'], ['y'], {}, undefined, 'com.example'), makeNode('Relu', ['y'], ['z'])], [], {
      x: [2, 3],
    });
    const { info } = inferShapes(g);
    expect(info.get('y')).toEqual({});
    expect(info.get('z')).toEqual({});
  });
});
