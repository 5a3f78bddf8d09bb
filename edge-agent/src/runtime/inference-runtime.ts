// The InferenceRuntime seam: loads model bytes into sessions that run float32 tensors (Node native or wasm).

/** A dense tensor crossing the seam: row-major values and their dimensions. */
export interface TensorValue {
  data: Float32Array;
  dims: readonly number[];
}

/** Name and declared shape of one model input (null or a string for a dynamic dimension). */
export interface SessionInput {
  name: string;
  shape: readonly (number | string | null)[] | null;
}

/** One loaded model. `run` may be called concurrently; `release` waits for nothing, callers do. */
export interface ModelSession {
  readonly inputs: readonly SessionInput[];
  readonly outputNames: readonly string[];
  /** Runs the model; every output comes back as float32 (integer outputs converted). */
  run(feeds: Record<string, TensorValue>): Promise<Record<string, TensorValue>>;
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
