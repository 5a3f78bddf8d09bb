// The InferenceRuntime seam: loads model bytes into sessions that run tensors (Node native or wasm).
import type { Tensor } from './tensors.ts';

/** A dense tensor crossing the seam: row-major values and their dimensions. */
export interface TensorValue {
  data: Float32Array;
  dims: readonly number[];
}

/** Name, declared shape (null or a string for a dynamic dimension) and element type of one model input or output. */
export interface SessionInput {
  name: string;
  shape: readonly (number | string | null)[] | null;
  /** ONNX element type (`float32`, `int64`, ...), when the runtime reports it. */
  type?: string;
}

/** One loaded model. `run` may be called concurrently; `release` waits for nothing, callers do. */
export interface ModelSession {
  readonly inputs: readonly SessionInput[];
  readonly outputNames: readonly string[];
  /** Declared outputs, when the runtime reports them (same order as `outputNames`). */
  readonly outputs?: readonly SessionInput[];
  /** Runs the model on float32 inputs; every output comes back as float32 (integer outputs converted). */
  run(feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>>;
  /**
   * Runs the model on inputs of any element type; outputs keep theirs (int64 as BigInt64Array, float16 as
   * bits). Optional so runtimes written before it keep working: without it, named predictions take float32
   * inputs only (through `run`).
   */
  runTensors?(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Frees the native session; no `run` may follow. */
  release(): Promise<void>;
}

/** What runs models on this device. Implementations: `OnnxNodeRuntime`, `OnnxWebRuntime`. */
export interface InferenceRuntime {
  /** e.g. `onnxruntime-node 1.30.0`, reported to the server [WIRE-2.3]. */
  readonly name: string;
  /** Execution providers a bundle may ask for (SPEC §10.2 R3), e.g. `['cpu']`. */
  readonly executionProviders: readonly string[];
  /** Highest default-domain ONNX opset this runtime runs. */
  readonly maxOpset: number;
  /** Builds a session from ONNX model bytes; throws AGENT_MODEL_LOAD_FAILED. */
  load(modelBytes: Uint8Array): Promise<ModelSession>;
}

/** Runs typed feeds on `session`: through `runTensors`, or through `run` when every feed is float32. */
export function runTensors(session: ModelSession, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  if (session.runTensors) return session.runTensors(feeds);
  const floats: Record<string, TensorValue> = {};
  for (const name in feeds) {
    const f = feeds[name]!;
    if (f.type !== 'float32')
      return Promise.reject(new Error(`this runtime runs float32 inputs only (no runTensors); input ${name} is ${f.type}`));
    floats[name] = { data: f.data as Float32Array, dims: f.dims };
  }
  return session.run(floats).then((out) => {
    const result: Record<string, Tensor> = {};
    for (const name in out) result[name] = { type: 'float32', data: out[name]!.data, dims: out[name]!.dims };
    return result;
  });
}
