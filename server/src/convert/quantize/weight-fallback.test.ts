// Weight-level mixed precision: a model whose one layer cannot be rounded to 8 bits (each output channel's weights
// are set by one huge weight on an input that is always 0) is quantized with that layer left float — weights, bias
// and input — the report names it with the reason, and an independent onnxruntime run agrees with the gate.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  float,
  floatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
} from '@flotilla/firmware-bundler/onnx';
import { quantizeWithReport } from '../quantize-with-report.ts';
import { randomNormal } from '../testing/onnx-fixtures.ts';

/** Input width, hidden width, classes; hidden unit DEAD is always 0 after fc1's Relu. */
const [IN, HID, OUT, DEAD] = [12, 24, 4, 5];

/**
 * x → fc1 (Relu) → fc2 (Relu) → fc3 → logits. fc1's unit DEAD has zero weights and a negative bias, so it is 0 after
 * the Relu; fc2 reads it with weight 40 in every output channel, which changes nothing in float but sets each channel's
 * int8 (and uint8) scale: fc2's real weights (~0.3) round to 0 or ±1 step, and the layer computes something else.
 */
function oneBadLayer(): Uint8Array {
  const w1 = randomNormal(HID * IN, 1, 0.4);
  const b1 = randomNormal(HID, 2, 0.1);
  for (let i = 0; i < IN; i++) w1[DEAD * IN + i] = 0;
  b1[DEAD] = -1;
  const w2 = randomNormal(HID * HID, 3, 0.3);
  for (let o = 0; o < HID; o++) w2[o * HID + DEAD] = 40;
  const nodes = [
    makeNode('Gemm', ['x', 'fc1.weight', 'fc1.bias'], ['h1'], { transB: 1, alpha: float(1), beta: float(1) }, 'fc1'),
    makeNode('Relu', ['h1'], ['a1'], {}, 'act1'),
    makeNode('Gemm', ['a1', 'fc2.weight', 'fc2.bias'], ['h2'], { transB: 1, alpha: float(1), beta: float(1) }, 'fc2'),
    makeNode('Relu', ['h2'], ['a2'], {}, 'act2'),
    makeNode('Gemm', ['a2', 'fc3.weight', 'fc3.bias'], ['logits'], { transB: 1, alpha: float(1), beta: float(1) }, 'fc3'),
  ];
  const graph = {
    name: 'one_bad_layer',
    node: nodes,
    initializer: [
      floatTensor('fc1.weight', [HID, IN], w1),
      floatTensor('fc1.bias', [HID], b1),
      floatTensor('fc2.weight', [HID, HID], w2),
      floatTensor('fc2.bias', [HID], randomNormal(HID, 4, 0.1)),
      floatTensor('fc3.weight', [OUT, HID], randomNormal(OUT * HID, 5, 0.5)),
      floatTensor('fc3.bias', [OUT], randomNormal(OUT, 6, 0.1)),
    ],
    input: [makeValueInfo('x', DataType.FLOAT, ['batch', IN])],
    output: [makeValueInfo('logits', DataType.FLOAT, ['batch', OUT])],
  };
  return encodeModel(makeModel(graph, { opset: 17, irVersion: 8 }));
}

const rows = (n: number, seed: number) => ({ data: randomNormal(n * IN, seed), shape: [n, IN] });

async function logits(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ x: new ort.Tensor('float32', x.data, x.shape) });
  await s.release();
  return out.logits!.data as Float32Array;
}

describe('weight-level mixed precision', () => {
  it('leaves the one layer whose weights cannot be rounded float, says why, and the int8 model meets the gate', async () => {
    const floatBytes = oneBadLayer();
    const heldout = rows(300, 8);
    const { int8Bytes, report } = await quantizeWithReport({
      floatBytes,
      calibration: rows(256, 7),
      evaluation: { inputs: heldout },
      mode: 'static',
      calibrationSettings: { method: 'auto' },
    });
    // Every scheme without the fallback was tried and missed the gate on the calibration samples.
    const c = report.calibrationCandidates!;
    expect(c.filter((x) => !x.floatNodes).every((x) => !x.meetsGate)).toBe(true);
    expect(c.find((x) => x.floatNodes)).toBeDefined();
    // Exactly fc2 stays float, named by its output, with its weight and the reason.
    const ops = (report.keptFloat ?? []).filter((k) => k.node);
    expect(ops).toEqual([expect.objectContaining({ node: 'h2', op: 'Gemm', tensor: 'fc2.weight' })]);
    expect(ops[0]!.reason).toMatch(/weight-level mixed precision.*rank 1.*missed the parity gate/);
    expect(report.scheme.weightType).toBe('uint8');
    expect(report.gate.passed).toBe(true);
    // The other two layers are still 8-bit: the file holds fc1's and fc3's weights as uint8, fc2's as float.
    const weights = (decodeModel(int8Bytes).graph!.initializer ?? [])
      .filter((t) => (t.dims ?? []).length === 2)
      .map((t) => `${t.dataType === DataType.UINT8 ? 'uint8' : t.dataType === DataType.FLOAT ? 'float' : t.dataType} ${t.dims!.join('x')}`)
      .sort();
    expect(weights).toEqual([`float ${HID}x${HID}`, `uint8 ${HID}x${IN}`, `uint8 ${OUT}x${HID}`]);

    // Independently of the report: onnxruntime on the held-out rows, float against int8.
    const f = await logits(floatBytes, heldout);
    const q = await logits(int8Bytes, heldout);
    let agree = 0;
    let dd = 0;
    let ff = 0;
    for (let r = 0; r < 300; r++) {
      const fr = f.subarray(r * OUT, (r + 1) * OUT);
      const qr = q.subarray(r * OUT, (r + 1) * OUT);
      if (fr.indexOf(Math.max(...fr)) === qr.indexOf(Math.max(...qr))) agree++;
      fr.forEach((v, i) => ((dd += (v - qr[i]!) ** 2), (ff += v * v)));
    }
    expect(agree / 300).toBeGreaterThanOrEqual(0.99);
    expect(Math.sqrt(dd / ff)).toBeLessThanOrEqual(0.05);
  });
});
