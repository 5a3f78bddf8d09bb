// The upgrader's graph rewrites and refusals (their numerics are checked in onnxruntime in server/src/convert/upgrade).
import { describe, expect, it } from 'vitest';
import { float, makeModel, makeNode, makeValueInfo } from './graph-builder.ts';
import { intAttr, opsetVersion } from './graph-query.ts';
import { normalizeModel } from './normalize-model.ts';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from './onnx-types.ts';
import { readTensor, floatTensor, int64Tensor } from './tensor-data.ts';
import { upgradeOpset } from './upgrade-opset.ts';

function modelOf(opset: number, nodes: NodeProto[], inits: TensorProto[] = [], dims: (number | string)[] = ['N', 3, 4]): ModelProto {
  return makeModel(
    { node: nodes, initializer: inits, input: [makeValueInfo('x', DataType.FLOAT, dims)], output: [makeValueInfo('y', DataType.FLOAT)] },
    { opset, irVersion: 4 },
  );
}
const ops = (m: ModelProto) => m.graph?.node?.map((n) => n.opType);

describe('upgradeOpset', () => {
  it('keeps an old Softmax over the last axis as one node, and rewrites one over another axis as Flatten → Softmax → Reshape', () => {
    const last = modelOf(11, [makeNode('Softmax', ['x'], ['y'], { axis: 2 })]);
    expect(upgradeOpset(last)).toMatchObject({ from: 11, to: 13, rewritten: ['Softmax'] });
    expect(ops(last)).toEqual(['Softmax']);
    expect(intAttr(last.graph!.node![0]!, 'axis', 0)).toBe(-1);
    const middle = modelOf(11, [makeNode('Softmax', ['x'], ['y'])]);
    upgradeOpset(middle);
    expect(ops(middle)).toEqual(['Shape', 'Flatten', 'Softmax', 'Reshape']);
    expect(middle.graph!.node![3]!.output).toEqual(['y']);
    expect(opsetVersion(middle)).toBe(13);
  });

  it('moves Slice attributes to int64 inputs, clamping PyTorch’s INT64_MAX end', () => {
    const m = modelOf(9, [makeNode('Slice', ['x'], ['y'], { starts: [1], ends: [9223372036854775807], axes: [1] })]);
    upgradeOpset(m);
    const slice = m.graph!.node![0]!;
    expect(slice.attribute ?? []).toEqual([]);
    const byName = new Map(m.graph!.initializer!.map((t) => [t.name, readTensor(t)]));
    expect(slice.input!.slice(1).map((i) => [...(byName.get(i) as BigInt64Array)])).toEqual([[1n], [9223372036854775807n], [1n]]);
  });

  it('leaves models at opset 13 or newer alone', () => {
    const m = modelOf(17, [makeNode('LayerNormalization', ['x', 's'], ['y'])], [floatTensor('s', [4], [1, 1, 1, 1])]);
    expect(upgradeOpset(m)).toEqual({ from: 17, to: 17, rewritten: [], carried: [] });
  });

  it('refuses with UpgradeError naming the op: no rule, an op opset 13 lacks, a subgraph, training outputs', () => {
    const refusal = (m: ModelProto) => {
      try {
        upgradeOpset(m);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(refusal(modelOf(9, [makeNode('MaxUnpool', ['x', 'i'], ['y'])]))).toMatchObject({
      code: 'ONNX_UPGRADE_REFUSED',
      op: 'MaxUnpool',
      reason: 'no upgrade rule for this op',
    });
    expect(refusal(modelOf(9, [makeNode('OneHot', ['x', 'd', 'v'], ['y'])]))).toMatchObject({
      op: 'OneHot',
      reason: expect.stringMatching(/changed after opset 9/),
    });
    expect(refusal(modelOf(9, [makeNode('ImageScaler', ['x'], ['y'], { scale: float(2) })]))).toMatchObject({
      op: 'ImageScaler',
      reason: expect.stringMatching(/experimental/),
    });
    const branch = { name: 'b', node: [makeNode('Identity', ['x'], ['o'])], output: [{ name: 'o' }] };
    expect(refusal(modelOf(11, [makeNode('If', ['c'], ['y'], { then_branch: branch, else_branch: branch })]))).toMatchObject({
      op: 'If',
      reason: expect.stringMatching(/subgraph/),
    });
    const bn = makeNode('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['n', 'mean'], { is_test: 0 });
    expect(refusal(modelOf(6, [bn, makeNode('Add', ['n', 'mean'], ['y'])]))).toMatchObject({
      op: 'BatchNormalization',
      fromOpset: 6,
      message: expect.stringMatching(/training outputs/),
    });
  });
});

describe('normalizeModel', () => {
  it('turns Constant-node weights into initializers, folds a static shape sub-graph and drops Identity/Dropout', () => {
    const m = modelOf(
      9,
      [
        makeNode('Constant', [], ['w'], { value: floatTensor('w', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]) }),
        makeNode('Shape', ['x'], ['s']),
        makeNode('Constant', [], ['i'], { value: int64Tensor('i', [], [1]) }),
        makeNode('Gather', ['s', 'i'], ['d1']),
        makeNode('Unsqueeze', ['d1'], ['d1u'], { axes: [0] }),
        makeNode('Constant', [], ['minus'], { value: int64Tensor('minus', [1], [-1]) }),
        makeNode('Concat', ['minus', 'd1u'], ['target'], { axis: 0 }),
        makeNode('Transpose', ['x'], ['xt'], { perm: [0, 2, 1] }),
        makeNode('Reshape', ['xt', 'target'], ['r']),
        makeNode('Dropout', ['r'], ['dr'], { ratio: float(0.5) }),
        makeNode('Identity', ['dr'], ['id']),
        makeNode('MatMul', ['id', 'w'], ['y0']),
        makeNode('Identity', ['y0'], ['y']),
      ],
      [],
      ['N', 4, 3],
    );
    const r = normalizeModel(m);
    expect(ops(m)).toEqual(['Transpose', 'Reshape', 'MatMul']);
    expect(m.graph!.node![2]!.output).toEqual(['y']);
    const target = m.graph!.initializer!.find((t) => t.name === m.graph!.node![1]!.input![1]);
    expect([...(readTensor(target!) as BigInt64Array)]).toEqual([-1n, 4n]);
    expect(r.fold).toMatchObject({ constantNodes: 3, removedIdentities: 3 });
    expect(m.graph!.output![0]!.type?.tensorType?.shape?.dim).toEqual([{}, { dimValue: 2 }]);
  });

  it('keeps Shape of a dynamic tensor computed at run time', () => {
    const m = modelOf(13, [makeNode('Shape', ['x'], ['s']), makeNode('Reshape', ['x', 's'], ['y'])]);
    normalizeModel(m);
    expect(ops(m)).toEqual(['Shape', 'Reshape']);
  });
});
