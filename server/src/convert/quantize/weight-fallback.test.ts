// Weight-level mixed precision: a model whose one small layer cannot be rounded to 8 bits (each output channel's
// weights are set by one huge weight on an input that is always 0) is quantized with that layer left float — weights,
// bias and input — the report names it with the reason, and an independent onnxruntime run agrees with the gate.
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

/** Input width, hidden width, classes; hidden unit DEAD is always 0 after fc2's Relu. */
const [IN, HID, OUT, DEAD] = [48, 48, 4, 5];

/**
 * x → fc1 (Relu) → fc2 (Relu) → fc3 → logits. fc2's unit DEAD has zero weights and a negative bias, so it is 0 after
 * the Relu; the head fc3 reads it with weight 400 in every output channel, which changes nothing in float but sets
 * each channel's 8-bit scale: fc3's real weights (~0.5) round to 0, and the head computes something else. fc3 holds
 * 4% of the weights, within what weight-level mixed precision may leave float.
 */
function oneBadLayer(): Uint8Array {
  const w2 = randomNormal(HID * HID, 3, 0.2);
  const b2 = randomNormal(HID, 4, 0.1);
  for (let i = 0; i < HID; i++) w2[DEAD * HID + i] = 0;
  b2[DEAD] = -1;
  const w3 = randomNormal(OUT * HID, 5, 0.5);
  for (let o = 0; o < OUT; o++) w3[o * HID + DEAD] = 400;
  const gemm = (x: string, layer: string, y: string) =>
    makeNode('Gemm', [x, `${layer}.weight`, `${layer}.bias`], [y], { transB: 1, alpha: float(1), beta: float(1) }, layer);
  const graph = {
    name: 'one_bad_layer',
    node: [
      gemm('x', 'fc1', 'h1'),
      makeNode('Relu', ['h1'], ['a1']),
      gemm('a1', 'fc2', 'h2'),
      makeNode('Relu', ['h2'], ['a2']),
      gemm('a2', 'fc3', 'logits'),
    ],
    initializer: [
      floatTensor('fc1.weight', [HID, IN], randomNormal(HID * IN, 1, 0.2)),
      floatTensor('fc1.bias', [HID], randomNormal(HID, 2, 0.1)),
      floatTensor('fc2.weight', [HID, HID], w2),
      floatTensor('fc2.bias', [HID], b2),
      floatTensor('fc3.weight', [OUT, HID], w3),
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
    // Exactly fc3 stays float, named by its output, with its weight and the reason.
    const ops = (report.keptFloat ?? []).filter((k) => k.node);
    expect(ops).toEqual([expect.objectContaining({ node: 'logits', op: 'Gemm', tensor: 'fc3.weight' })]);
    expect(ops[0]!.reason).toMatch(/weight-level mixed precision.*rank 1.*missed the parity gate/);
    expect(report.scheme.weightType).toBe('uint8');
    expect(report.gate.passed).toBe(true);
    // The other two layers are still 8-bit: the file holds fc1's and fc2's weights as uint8, fc3's as float.
    const weights = (decodeModel(int8Bytes).graph!.initializer ?? [])
      .filter((t) => (t.dims ?? []).length === 2)
      .map((t) => `${t.dataType === DataType.UINT8 ? 'uint8' : t.dataType === DataType.FLOAT ? 'float' : t.dataType} ${t.dims!.join('x')}`)
      .sort();
    expect(weights).toEqual([`float ${OUT}x${HID}`, `uint8 ${HID}x${HID}`, `uint8 ${HID}x${IN}`]);

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
