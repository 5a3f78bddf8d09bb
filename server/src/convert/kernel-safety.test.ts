// int8 that is right on every CPU: 7-bit weights in every model the quantizer writes, integer kernels that agree
// with the QDQ reference, and a parity gate that refuses a full-range model whatever CPU runs the gate.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, floatTensor, makeNode, readTensor, type TensorProto } from '@flotilla/firmware-bundler/onnx';
import { evaluateParity } from './evaluate-parity.ts';
import { kernelSafety } from './kernel-safety.ts';
import { parityGate } from './parity-gate.ts';
import { quantizeDynamic } from './quantize/quantize-dynamic.ts';
import { quantizeStatic } from './quantize/quantize-static.ts';
import { modelOf, pytorchLikeMlp, randomNormal } from './testing/onnx-fixtures.ts';

/** Conv → Relu → Conv → Relu → GlobalAveragePool → Flatten → Gemm, image-shaped input [N, 3, 16, 16]. */
function smallCnn(): Uint8Array {
  return modelOf(
    13,
    [
      makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
      makeNode('Relu', ['c1'], ['r1']),
      makeNode('Conv', ['r1', 'w2', 'b2'], ['c2'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
      makeNode('Relu', ['c2'], ['r2']),
      makeNode('GlobalAveragePool', ['r2'], ['p']),
      makeNode('Flatten', ['p'], ['f']),
      makeNode('Gemm', ['f', 'w3', 'b3'], ['y'], { transB: 1 }),
    ],
    [
      floatTensor('w1', [16, 3, 3, 3], randomNormal(16 * 27, 1, 0.3)),
      floatTensor('b1', [16], randomNormal(16, 2, 0.05)),
      floatTensor('w2', [32, 16, 3, 3], randomNormal(32 * 144, 3, 0.12)),
      floatTensor('b2', [32], randomNormal(32, 4, 0.05)),
      floatTensor('w3', [10, 32], randomNormal(320, 5, 0.3)),
      floatTensor('b3', [10], randomNormal(10, 6, 0.05)),
    ],
    [3, 16, 16],
    [10],
  );
}

/** Smooth, image-like inputs in [0, 1] (gradients plus a blob), not white noise. */
function images(n: number, seed: number): { data: Float32Array; shape: number[] } {
  const noise = randomNormal(n * 3 * 256, seed, 0.05);
  const data = new Float32Array(n * 3 * 256);
  for (let i = 0; i < n; i++) {
    const cx = (i * 7) % 16;
    const cy = (i * 11) % 16;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const k = ((i * 3 + c) * 16 + y) * 16 + x;
          const blob = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 18);
          data[k] = Math.min(1, Math.max(0, 0.3 * (x / 15) + 0.2 * (c / 2) + 0.5 * blob + noise[k]!));
        }
      }
    }
  }
  return { data, shape: [n, 3, 16, 16] };
}

/** int8 initializers of a model file, read independently of the module under test. */
function int8Values(bytes: Uint8Array): Int8Array[] {
  return (decodeModel(bytes).graph?.initializer ?? []).filter((t) => t.dataType === DataType.INT8).map((t) => readTensor(t) as Int8Array);
}

async function run(bytes: Uint8Array, x: { data: Float32Array; shape: number[] }, optimization: 'disabled' | 'all'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: optimization });
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.data, x.shape) });
  const y = out[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return y;
}

const range = (a: Float32Array) => a.reduce((m, v) => Math.max(m, v), -Infinity) - a.reduce((m, v) => Math.min(m, v), Infinity);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Doubles every int8 weight (clamped to ±127) and halves its scale: the float meaning stays, the range goes full. */
function widenWeights(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const inits = new Map((model.graph!.initializer ?? []).map((t) => [t.name, t]));
  for (const n of model.graph!.node ?? []) {
    if (n.opType !== 'DequantizeLinear') continue;
    const [q, s] = n.input ?? [];
    const qt = inits.get(q);
    const st = inits.get(s);
    if (!qt || !st || qt.dataType !== DataType.INT8) continue;
    const wide = Int8Array.from(readTensor(qt) as Int8Array, (v) => Math.max(-127, Math.min(127, v * 2)));
    const half = Float32Array.from(readTensor(st) as Float32Array, (v) => v / 2);
    Object.assign(qt, { int32Data: undefined, rawData: new Uint8Array(wide.buffer) } satisfies Partial<TensorProto>);
    Object.assign(st, { floatData: undefined, rawData: new Uint8Array(half.buffer) } satisfies Partial<TensorProto>);
  }
  return encodeModel(model);
}

describe('int8 weights stay inside the range every CPU multiplies exactly', () => {
  it('static and dynamic models hold no int8 value outside [-63, 63], read from the file', async () => {
    const cnn = await quantizeStatic(smallCnn(), images(64, 1));
    const mlp = await quantizeStatic(pytorchLikeMlp(), { data: randomNormal(64 * 12, 7), shape: [64, 12] });
    const dyn = await quantizeDynamic(pytorchLikeMlp());
    for (const m of [cnn, mlp, dyn]) {
      const values = int8Values(m.bytes);
      expect(values.length).toBeGreaterThan(0);
      const all = values.flatMap((v) => [...v]);
      expect(Math.max(...all)).toBeLessThanOrEqual(63);
      expect(Math.min(...all)).toBeGreaterThanOrEqual(-63);
      // The range is used: a per-channel scale maps each channel's largest weight to ±63.
      expect(Math.max(...all.map(Math.abs))).toBe(63);
    }
  });

  it('fused integer kernels on this CPU agree with the unfused QDQ reference (what the gate measures is what devices run)', async () => {
    const q = await quantizeStatic(smallCnn(), images(64, 1));
    const x = images(200, 2);
    const fused = await run(q.bytes, x, 'all');
    const reference = await run(q.bytes, x, 'disabled');
    // 7-bit weights make the integer sums exact, so the two agree to float rounding (2.6e-7 of the output range
    // measured on an AVX2-only EPYC). The same model with full-range weights is 1.7e-2 off there: saturation.
    expect(maxDiff(fused, reference)).toBeLessThan(1e-3 * range(reference));
  });

  it('the parity gate refuses a full-range int8 model on every CPU, naming the tensor and the reason', async () => {
    const floatBytes = smallCnn();
    const q = await quantizeStatic(floatBytes, images(64, 1));
    const wide = widenWeights(q.bytes);
    expect(kernelSafety(decodeModel(q.bytes)).outside).toEqual([]);
    const safety = kernelSafety(decodeModel(wide));
    expect(safety.outside.length).toBe(3);
    expect(safety.max).toBe(126);
    const report = await evaluateParity({ floatBytes, int8Bytes: wide, inputs: images(100, 3), latency: false });
    const gate = parityGate(report, { minTop1Agreement: 0 });
    expect(gate.passed).toBe(false);
    expect(gate.failures).toEqual([expect.stringMatching(/3 int8 tensor\(s\) hold values outside \[-64, 63\].*without VNNI/)]);
    const ok = parityGate(await evaluateParity({ floatBytes, int8Bytes: q.bytes, inputs: images(100, 3), latency: false }), { minTop1Agreement: 0 });
    expect(ok.failures).toEqual([]);
  });
});
