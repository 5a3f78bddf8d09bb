// Compacting a graph's names and constants changes its size, never what it computes.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, floatTensor, makeModel, makeNode, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import { compactGraph } from './compact-graph.ts';

/** y = (x + c1) * c2 + c3 with c1 and c3 identical constants and long exporter-style names. */
function model(): Uint8Array {
  const graph = {
    name: 'g',
    node: [
      makeNode('Add', ['x', '/block/const_one_output_0'], ['/block/Add_output_0'], {}, '/block/Add'),
      makeNode('Mul', ['/block/Add_output_0', '/block/const_two_output_0'], ['/block/Mul_output_0'], {}, '/block/Mul'),
      makeNode('Add', ['/block/Mul_output_0', '/block/const_three_output_0'], ['y'], {}, '/block/Add_1'),
    ],
    initializer: [
      floatTensor('/block/const_one_output_0', [3], [1, 2, 3]),
      floatTensor('/block/const_two_output_0', [3], [2, 2, 2]),
      floatTensor('/block/const_three_output_0', [3], [1, 2, 3]),
    ],
    input: [makeValueInfo('x', DataType.FLOAT, [1, 3])],
    output: [makeValueInfo('y', DataType.FLOAT, [1, 3])],
  };
  return encodeModel(makeModel(graph, { opset: 17, irVersion: 8 }));
}

async function run(bytes: Uint8Array): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.of(0.5, -1, 4), [1, 3]) });
  await s.release();
  return [...(out.y!.data as Float32Array)];
}

describe('compactGraph', () => {
  it('keeps input and output names, stores identical constants once, shortens the rest, and computes the same', async () => {
    const before = model();
    const m = decodeModel(before);
    const stats = compactGraph(m.graph!);
    const after = encodeModel(m);
    expect(stats).toEqual({ sharedInitializers: 1, renamed: 4 });
    expect(m.graph!.initializer!.map((t) => t.name!.length <= 2)).toEqual([true, true]);
    expect(m.graph!.node!.every((n) => n.name === undefined && n.input!.every((i) => i === 'x' || i.length <= 2))).toBe(true);
    expect(m.graph!.node!.at(-1)!.output).toEqual(['y']);
    expect(after.length).toBeLessThan(before.length * 0.7);
    expect(await run(after)).toEqual(await run(before));
  });
});
