// Bias correction: the weight rounding shifts each output channel's mean by (Ŵ − W)·E[x]; the quantizer measures E[x]
// during calibration and folds the shift into the bias, so the int8 model's outputs are centred where float's are.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { pytorchLikeMlp, randomNormal } from '../testing/onnx-fixtures.ts';
import { quantizeStatic } from './quantize-static.ts';

/** Rows whose features have a clearly non-zero mean, the case where rounding errors add up instead of cancelling. */
function shifted(n: number, seed: number): { data: Float32Array; shape: number[] } {
  return { data: randomNormal(n * 12, seed).map((v, i) => v * 0.5 + 1 + (i % 12) / 6), shape: [n, 12] };
}

async function outputs(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.data, x.shape) });
  const y = (out[s.outputNames[0]!]!.data as Float32Array).slice();
  await s.release();
  return y;
}

/** Mean over output channels of |mean over rows of (int8 − float)|: the systematic part of the error. */
function meanShift(f: Float32Array, q: Float32Array, channels: number): number {
  const sums = new Float64Array(channels);
  f.forEach((v, i) => (sums[i % channels]! += q[i]! - v));
  const rows = f.length / channels;
  return sums.reduce((a, s) => a + Math.abs(s / rows), 0) / channels;
}

describe('bias correction', () => {
  it('removes most of the mean shift coarse weights give every output channel', async () => {
    const floatBytes = pytorchLikeMlp();
    // 4-level weights make the rounding error large enough to measure on a small model.
    const corrected = await quantizeStatic(floatBytes, shifted(256, 1), { weightQmax: 3, biasCorrection: true });
    expect(corrected.calibrated!.channelMeans!.size).toBe(3);
    // Off by default (quantize-static.ts says why): the same calibration without it.
    const plain = await quantizeStatic(floatBytes, shifted(256, 1), { weightQmax: 3, calibrated: corrected.calibrated! });
    const x = shifted(512, 2);
    const f = await outputs(floatBytes, x);
    const before = meanShift(f, await outputs(plain.bytes, x), 4);
    const after = meanShift(f, await outputs(corrected.bytes, x), 4);
    expect(before).toBeGreaterThan(0.02);
    expect(after).toBeLessThan(before / 3);
  });
});
