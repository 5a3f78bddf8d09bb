// Test helper: run ONNX bytes on onnxruntime-node or onnxruntime-web and compare with TensorFlow.js predict.
import * as ort from 'onnxruntime-node';
import { openWebSession } from '../ort-web-node.ts';

/** Output of the single-input, single-output model `bytes` for `data` of `dims`, on the chosen runtime. */
export async function runOnnx(
  bytes: Uint8Array,
  data: Float32Array,
  dims: number[],
  runtime: 'node' | 'web' = 'node',
): Promise<{ data: Float32Array; dims: number[] }> {
  if (runtime === 'node') {
    const s = await ort.InferenceSession.create(bytes);
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', data, dims) });
    const t = out[s.outputNames[0]!]!;
    await s.release();
    return { data: t.data as Float32Array, dims: [...t.dims] };
  }
  const s = await openWebSession(bytes);
  const { Tensor } = await import('onnxruntime-web');
  const out = await s.run({ [s.inputNames[0]!]: new Tensor('float32', data, dims) });
  const t = out[s.outputNames[0]!]!;
  await s.release();
  return { data: t.data as Float32Array, dims: [...t.dims] };
}

/** Largest absolute elementwise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
