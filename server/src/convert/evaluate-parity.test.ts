// Parity on models with several outputs and no labels: each output judged on its own terms, checked against an
// independent onnxruntime run, and a wrong regression head refused even while the class scores still agree.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  floatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  readTensor,
} from '@flotilla/firmware-bundler/onnx';
import { evaluateParity } from './evaluate-parity.ts';
import { parityGate } from './parity-gate.ts';
import { quantizeStatic } from './quantize/quantize-static.ts';
import { randomNormal } from './testing/onnx-fixtures.ts';

/** A shared trunk with two heads: class scores [N, 4] and one value [N, 1] (a classifier plus a regressor). */
function twoHeadModel(): Uint8Array {
  const s = (n: number) => 1 / Math.sqrt(n);
  const graph = {
    name: 'two-heads',
    node: [
      makeNode('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: 1 }),
      makeNode('Relu', ['h'], ['a']),
      makeNode('Gemm', ['a', 'wc', 'bc'], ['scores'], { transB: 1 }),
      makeNode('Gemm', ['a', 'wv', 'bv'], ['value'], { transB: 1 }),
    ],
    initializer: [
      floatTensor('w1', [32, 16], randomNormal(512, 1, s(16))),
      floatTensor('b1', [32], randomNormal(32, 2, 0.1)),
      floatTensor('wc', [4, 32], randomNormal(128, 3, s(32))),
      floatTensor('bc', [4], randomNormal(4, 4, 0.1)),
      floatTensor('wv', [1, 32], randomNormal(32, 5, s(32))),
      floatTensor('bv', [1], [0.5]),
    ],
    input: [makeValueInfo('x', DataType.FLOAT, ['batch', 16])],
    output: [makeValueInfo('scores', DataType.FLOAT, ['batch', 4]), makeValueInfo('value', DataType.FLOAT, ['batch', 1])],
  };
  return encodeModel(makeModel(graph, { opset: 17, irVersion: 8 }));
}

const inputs = (n: number, seed: number) => ({ data: randomNormal(n * 16, seed), shape: [n, 16] });

async function outputsOf(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ x: new ort.Tensor('float32', x.data, x.shape) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

function relativeL2(f: Float32Array, q: Float32Array): number {
  let dd = 0;
  let ff = 0;
  f.forEach((v, i) => {
    dd += (v - q[i]!) ** 2;
    ff += v * v;
  });
  return Math.sqrt(dd / ff);
}

describe('parity on every output of a model without labels', () => {
  it('reports top-1 for the class scores and relative L2 and cosine for the value, matching an independent run', async () => {
    const floatBytes = twoHeadModel();
    const q = await quantizeStatic(floatBytes, inputs(256, 10));
    const held = inputs(500, 11);
    const r = await evaluateParity({ floatBytes, int8Bytes: q.bytes, inputs: held, latency: false });
    expect(r.outputs.map((o) => [o.name, o.kind])).toEqual([
      ['scores', 'classifier'],
      ['value', 'tensor'],
    ]);
    const [f, i8] = [await outputsOf(floatBytes, held), await outputsOf(q.bytes, held)];
    const value = r.outputs[1]!;
    expect(value.relativeL2).toBeCloseTo(relativeL2(f.value!, i8.value!), 6);
    expect(value.relativeL2).toBeLessThan(0.05);
    expect(value.cosine).toBeGreaterThan(0.99);
    expect(r.outputs[0]!.top1Agreement).toBeGreaterThanOrEqual(0.97);
    expect(parityGate(r, { minTop1Agreement: 0.97 }).passed).toBe(true);
  });

  it('refuses an int8 model whose value head is wrong although every class score still agrees', async () => {
    const floatBytes = twoHeadModel();
    const q = await quantizeStatic(floatBytes, inputs(256, 10));
    // Negate the value head's int8 weights: the classifier head is untouched, the regression output is garbage.
    const broken = decodeModel(q.bytes);
    // The int8 file's internal names are short ids: the value head's weight is what its Gemm's DequantizeLinear reads.
    const g = broken.graph!;
    const head = g.node!.find((n) => n.output?.[0] === 'value')!;
    const dq = g.node!.find((n) => n.output?.[0] === head.input![1])!;
    const wv = g.initializer!.find((t) => t.name === dq.input![0])!;
    const negated = Int8Array.from(readTensor(wv) as Int8Array, (v) => -v);
    Object.assign(wv, { int32Data: undefined, rawData: new Uint8Array(negated.buffer) });
    const r = await evaluateParity({ floatBytes, int8Bytes: encodeModel(broken), inputs: inputs(500, 11), latency: false });
    expect(r.outputs[0]!.top1Agreement).toBeGreaterThanOrEqual(0.97);
    const gate = parityGate(r, { minTop1Agreement: 0.97 });
    expect(gate.passed).toBe(false);
    expect(gate.failures.join('\n')).toMatch(/relative L2 error [\d.]+ on output 'value' is above 0\.05/);
  });
});
