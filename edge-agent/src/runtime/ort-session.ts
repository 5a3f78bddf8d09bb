// The ModelSession both ONNX runtimes share: they expose the same onnxruntime-common API.
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { ModelSession, SessionInput, TensorValue } from './inference-runtime.ts';
import { floatToHalf, isTensorType, type Tensor, type TensorData } from './tensors.ts';

/** The constructor of `ort.Tensor` (node and web each bring their own). */
export type OrtTensorCtor = new (type: string, data: TensorData, dims: readonly number[]) => OrtTensor;

type Meta = readonly { name: string; isTensor?: boolean; type?: string; shape?: readonly (number | string)[] }[] | undefined;

/** Wraps an onnxruntime session: float32 {@link TensorValue}s for the classic path, typed {@link Tensor}s for named inputs. */
export class OrtSession implements ModelSession {
  readonly inputs: readonly SessionInput[];
  readonly outputs: readonly SessionInput[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: InferenceSession,
    private readonly TensorCtor: OrtTensorCtor,
  ) {
    const s = session as { inputMetadata?: Meta; outputMetadata?: Meta };
    this.inputs = describe(session.inputNames, s.inputMetadata);
    this.outputs = describe(session.outputNames, s.outputMetadata);
    this.outputNames = session.outputNames;
  }

  run(feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const name in feeds) {
      const f = feeds[name]!;
      ortFeeds[name] = new this.TensorCtor('float32', f.data, f.dims);
    }
    // Not `async`: on the prediction path every extra promise hop is measurable.
    return this.session.run(ortFeeds).then(toValues);
  }

  runTensors(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const name in feeds) {
      const f = feeds[name]!;
      ortFeeds[name] = new this.TensorCtor(f.type, f.data, f.dims);
    }
    return this.session.run(ortFeeds).then(toTensors);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function describe(names: readonly string[], meta: Meta): SessionInput[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    const tensor = m && m.isTensor !== false;
    return {
      name,
      shape: tensor && m.shape ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : null)) : null,
      ...(tensor && typeof m.type === 'string' ? { type: m.type } : {}),
    };
  });
}

function toValues(out: InferenceSession.OnnxValueMapType): Record<string, TensorValue> {
  const result: Record<string, TensorValue> = {};
  for (const name in out) {
    const t = out[name]!;
    result[name] = { data: t.data instanceof Float32Array ? t.data : toFloat32(t.data), dims: t.dims };
  }
  return result;
}

function toTensors(out: InferenceSession.OnnxValueMapType): Record<string, Tensor> {
  const result: Record<string, Tensor> = {};
  for (const name in out) {
    const t = out[name]!;
    if (!isTensorType(t.type)) throw new Error(`output ${name} is of type ${t.type}, which the agent does not serve`);
    let data = t.data as TensorData;
    // Runtimes with Float16Array hand float16 out as numbers: the agent's form is always the half bits.
    if (t.type === 'float16' && !(data instanceof Uint16Array)) data = Uint16Array.from(data as unknown as ArrayLike<number>, floatToHalf);
    result[name] = { type: t.type, dims: t.dims, data };
  }
  return result;
}

function toFloat32(data: OrtTensor['data']): Float32Array {
  if (typeof data === 'string' || !(ArrayBuffer.isView(data) || Array.isArray(data))) return new Float32Array(0);
  const src = data as ArrayLike<number | bigint | string | boolean>;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}
