// InferenceRuntime on onnxruntime-web's WebGPU provider, for browsers with a GPU: offered to the agent as an
// accelerator, so the provider probe decides per model whether it serves (see model/accelerator.ts).
import { foldInt8Weights } from '@flotilla/firmware-bundler/onnx';
import { AgentError } from '../errors.ts';
import type { InferenceRuntime, ModelSession } from './inference-runtime.ts';
import type { OnnxWebRuntimeOptions } from './onnx-web-runtime.ts';
import { OrtSession, type OrtTensorCtor } from './ort-session.ts';

type OrtWebGpu = typeof import('onnxruntime-web/webgpu');
let ortModule: Promise<OrtWebGpu> | null = null;

/**
 * {@link InferenceRuntime} on onnxruntime-web's `webgpu` build. The module (and its JSEP wasm) is imported
 * on first load, so pages that never offer the GPU do not download it: bundlers split it into its own chunk.
 */
export class OnnxWebGpuRuntime implements InferenceRuntime {
  readonly name = 'onnxruntime-web webgpu';
  readonly executionProviders = ['webgpu'] as const;
  readonly maxOpset: number;

  constructor(private readonly options: OnnxWebRuntimeOptions = {}) {
    this.maxOpset = options.maxOpset ?? 24;
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    if (typeof navigator === 'undefined' || !(navigator as { gpu?: unknown }).gpu) {
      throw new AgentError(
        'AGENT_MODEL_LOAD_FAILED',
        'this browser offers no WebGPU (navigator.gpu is missing: an insecure origin, or WebGPU is disabled)',
      );
    }
    try {
      const ort = await (ortModule ??= import('onnxruntime-web/webgpu').then((m) => {
        if (this.options.wasmPaths) m.env.wasm.wasmPaths = this.options.wasmPaths;
        m.env.wasm.numThreads = this.options.numThreads ?? 1;
        m.env.wasm.proxy = false;
        return m;
      }));
      // int8 weights are folded as on wasm: the WebGPU provider has no int8 kernels worth using.
      const bytes = this.options.foldInt8 === false ? modelBytes : foldInt8Weights(modelBytes);
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
      return new OrtSession(session, ort.Tensor as unknown as OrtTensorCtor);
    } catch (err) {
      throw new AgentError(
        'AGENT_MODEL_LOAD_FAILED',
        `onnxruntime-web (webgpu) could not load the model: ${(err as Error)?.message ?? err}`,
        { cause: err },
      );
    }
  }
}
