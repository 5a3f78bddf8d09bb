// The load-time adapter turns constant DequantizeLinear nodes back into float initializers, exactly.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from './onnx-codec.ts';
import { foldInt8WeightsWithStats, foldInt8Weights } from './fold-int8-weights.ts';
import { makeModel, makeNode, makeValueInfo } from './graph-builder.ts';
import { DataType, type TensorProto } from './onnx-types.ts';
import { makeTensor, readTensor } from './tensor-data.ts';

/** x → Q/DQ → MatMul(DQ(int8 weight, per column)) + DQ(int32 bias) → y */
function qdqModel(): Uint8Array {
  const inits: TensorProto[] = [
    makeTensor('w_q', [2, 3], Int8Array.of(-127, 0, 5, 64, -3, 127)),
    makeTensor('w_s', [3], Float32Array.of(0.5, 0.25, 2)),
    makeTensor('w_z', [3], Int8Array.of(0, 0, 1)),
    makeTensor('b_q', [3], Int32Array.of(10, -20, 30)),
    makeTensor('b_s', [], Float32Array.of(0.125)),
    makeTensor('x_s', [], Float32Array.of(0.1)),
    makeTensor('x_z', [], Uint8Array.of(128)),
  ];
  const nodes = [
    makeNode('DequantizeLinear', ['w_q', 'w_s', 'w_z'], ['w'], { axis: 1 }),
    makeNode('DequantizeLinear', ['b_q', 'b_s'], ['b']),
    makeNode('QuantizeLinear', ['x', 'x_s', 'x_z'], ['xq']),
    makeNode('DequantizeLinear', ['xq', 'x_s', 'x_z'], ['xd']),
    makeNode('MatMul', ['xd', 'w'], ['m']),
    makeNode('Add', ['m', 'b'], ['y']),
  ];
  const graph = {
    name: 'g',
    node: nodes,
    initializer: inits,
    input: [makeValueInfo('x', DataType.FLOAT, ['N', 2])],
    output: [makeValueInfo('y', DataType.FLOAT, ['N', 3])],
  };
  return encodeModel(makeModel(graph));
}

const init = (bytes: Uint8Array, name: string) => decodeModel(bytes).graph!.initializer!.find((t) => t.name === name);

describe('foldInt8Weights', () => {
  it('replaces constant DequantizeLinear with the float values (per axis, with zero points) and strips activation QDQ', () => {
    const { bytes, stats } = foldInt8WeightsWithStats(qdqModel());
    expect(stats).toEqual({ foldedWeights: 2, strippedActivationPairs: 1 });
    expect(readTensor(init(bytes, 'w')!)).toEqual(Float32Array.of(-63.5, 0, 8, 32, -0.75, 252));
    expect(readTensor(init(bytes, 'b')!)).toEqual(Float32Array.of(1.25, -2.5, 3.75));
    const g = decodeModel(bytes).graph!;
    expect(g.node!.map((n) => n.opType)).toEqual(['MatMul', 'Add']);
    expect(g.node![0]!.input).toEqual(['x', 'w']);
    expect(g.initializer!.map((t) => t.name).sort()).toEqual(['b', 'w']);
    expect(g.input).toEqual(decodeModel(qdqModel()).graph!.input);
  });

  it('keeps activation QDQ pairs when asked', () => {
    const g = decodeModel(foldInt8Weights(qdqModel(), { keepActivationQdq: true })).graph!;
    expect(g.node!.map((n) => n.opType)).toEqual(['QuantizeLinear', 'DequantizeLinear', 'MatMul', 'Add']);
  });

  it('leaves a model without quantized constants equivalent', () => {
    const plain = encodeModel(
      makeModel({
        name: 'g',
        node: [makeNode('Relu', ['x'], ['y'])],
        input: [makeValueInfo('x', DataType.FLOAT, [1])],
        output: [makeValueInfo('y', DataType.FLOAT, [1])],
      }),
    );
    expect(foldInt8Weights(plain)).toEqual(plain);
  });
});
