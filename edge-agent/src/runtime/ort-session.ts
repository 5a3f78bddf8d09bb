// The ModelSession both ONNX runtimes share: they expose the same onnxruntime-common API.
import type { InferenceSession, Tensor, TypedTensor } from 'onnxruntime-common';
import type { ModelSession, SessionInput, TensorValue } from './inference-runtime.ts';

/** The constructor of `ort.Tensor` for float32 data (node and web each bring their own). */
export type Float32TensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => TypedTensor<'float32'>;

/** Wraps an onnxruntime session so the agent sees only float32 {@link TensorValue}s. */
export class OrtSession implements ModelSession {
  readonly inputs: readonly SessionInput[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: InferenceSession,
    private readonly TensorCtor: Float32TensorCtor,
  ) {
    const meta = (session as { inputMetadata?: readonly { name: string; isTensor?: boolean; shape?: readonly (number | string)[] }[] }).inputMetadata;
    this.inputs = session.inputNames.map((name, i) => {
      const m = meta?.[i];
      return { name, shape: m && m.isTensor !== false && m.shape ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : null)) : null };
    });
    this.outputNames = session.outputNames;
  }

  run(feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>> {
    const ortFeeds: Record<string, Tensor> = {};
    for (const name in feeds) {
      const f = feeds[name]!;
      ortFeeds[name] = new this.TensorCtor('float32', f.data, f.dims);
    }
    // Not `async`: on the prediction path every extra promise hop is measurable.
    return this.session.run(ortFeeds).then(toValues);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function toValues(out: InferenceSession.OnnxValueMapType): Record<string, TensorValue> {
  const result: Record<string, TensorValue> = {};
  for (const name in out) {
    const t = out[name]!;
    result[name] = { data: t.data instanceof Float32Array ? t.data : toFloat32(t.data), dims: t.dims };
  }
  return result;
}

function toFloat32(data: Tensor['data']): Float32Array {
  if (typeof data === 'string' || !(ArrayBuffer.isView(data) || Array.isArray(data))) return new Float32Array(0);
  const src = data as ArrayLike<number | bigint | string | boolean>;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}
