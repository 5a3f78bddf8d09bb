// InferenceRuntime on onnxruntime-node: the native build (CPU, or WebGPU through its built-in Dawn), for agents under Node.
import * as ort from 'onnxruntime-node';
import { AgentError } from '../errors.ts';
import type { InferenceRuntime, ModelSession } from './inference-runtime.ts';
import { OrtSession, type OrtTensorCtor } from './ort-session.ts';

/** Options of {@link OnnxNodeRuntime}. */
export interface OnnxNodeRuntimeOptions {
  /** Intra-op threads per session. Default 1: edge devices share few cores with the host app. */
  intraOpThreads?: number;
  /** Highest opset reported to bundles. Default 24. */
  maxOpset?: number;
  /**
   * 'webgpu' runs models on the GPU through onnxruntime's WebGPU provider (Dawn on Vulkan: needs
   * libvulkan1 and a Vulkan driver), with the CPU taking the operators it lacks. A device without a
   * usable adapter then fails to load models with AGENT_MODEL_LOAD_FAILED rather than quietly using
   * the CPU. Default 'cpu'.
   */
  executionProvider?: 'cpu' | 'webgpu';
}

/** {@link InferenceRuntime} on onnxruntime-node's CPU (default) or WebGPU execution provider. */
export class OnnxNodeRuntime implements InferenceRuntime {
  readonly name = `onnxruntime-node ${ort.env.versions?.node ?? 'unknown'}`;
  readonly executionProviders: readonly string[];
  readonly maxOpset: number;

  constructor(private readonly options: OnnxNodeRuntimeOptions = {}) {
    this.maxOpset = options.maxOpset ?? 24;
    this.executionProviders = options.executionProvider === 'webgpu' ? ['webgpu', 'cpu'] : ['cpu', 'CPUExecutionProvider'];
  }

  async load(modelBytes: Uint8Array): Promise<ModelSession> {
    try {
      const session = await ort.InferenceSession.create(modelBytes, {
        executionProviders: this.options.executionProvider === 'webgpu' ? ['webgpu', 'cpu'] : ['cpu'],
        intraOpNumThreads: this.options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      return new OrtSession(session, ort.Tensor as unknown as OrtTensorCtor);
    } catch (err) {
      throw new AgentError('AGENT_MODEL_LOAD_FAILED', `onnxruntime-node could not load the model: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    }
  }
}
