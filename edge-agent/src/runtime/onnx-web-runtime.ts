// InferenceRuntime on onnxruntime-web (wasm) for browsers; int8 weights are folded to float at load time.
import * as ort from 'onnxruntime-web/wasm';
import { foldInt8Weights } from '@flotilla/firmware-bundler/onnx';
import { AgentError } from '../errors.ts';
import type { InferenceRuntime, ModelSession } from './inference-runtime.ts';
import { OrtSession, type OrtTensorCtor } from './ort-session.ts';

/** Options of {@link OnnxWebRuntime}. */
export interface OnnxWebRuntimeOptions {
  /** URL prefix the `ort-wasm-*.wasm/.mjs` files are served from (e.g. `/ort/`); never a CDN. */
  wasmPaths?: string;
  /** Wasm threads. Default 1 (threads need cross-origin isolation). */
  numThreads?: number;
  /** Fold int8 weights to float before loading (wasm int8 kernels are slow). Default true. */
  foldInt8?: boolean;
  /** Highest opset reported to bundles. Default 24. */
  maxOpset?: number;
}

/** {@link InferenceRuntime} on onnxruntime-web's wasm backend. */
export class OnnxWebRuntime implements InferenceRuntime {
  readonly name = `onnxruntime-web ${ort.env.versions?.web ?? 'unknown'}`;
  readonly executionProviders = ['wasm', 'cpu'] as const;
  readonly maxOpset: number;

  constructor(private readonly options: OnnxWebRuntimeOptions = {}) {
    this.maxOpset = options.maxOpset ?? 24;
    if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
    ort.env.wasm.numThreads = options.numThreads ?? 1;
    ort.env.wasm.proxy = false;
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    try {
      const bytes = this.options.foldInt8 === false ? modelBytes : foldInt8Weights(modelBytes);
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      return new OrtSession(session, ort.Tensor as unknown as OrtTensorCtor);
    } catch (err) {
      throw new AgentError('AGENT_MODEL_LOAD_FAILED', `onnxruntime-web could not load the model: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    }
  }
}
