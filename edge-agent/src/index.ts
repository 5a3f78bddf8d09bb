// Node entry of @flotilla/edge-agent: createAgent on files and onnxruntime-node, plus the seams for other hosts.
import { createHash } from 'node:crypto';
import { FileStorage } from './storage/file-storage.ts';
import { OnnxNodeRuntime } from './runtime/onnx-node-runtime.ts';
import { startWith, type CommonAgentOptions } from './core/compose.ts';
import { AgentError } from './errors.ts';
import type { Agent } from './core/agent.ts';
import type { AgentStorage } from './storage/agent-storage.ts';
import type { InferenceRuntime } from './runtime/inference-runtime.ts';

/** Options of {@link createAgent}. */
export interface CreateAgentOptions extends CommonAgentOptions {
  /** Data folder for state, slots, chunks and the telemetry queue (FileStorage). */
  dataDir?: string;
  /** Another storage instead of `dataDir`. */
  storage?: AgentStorage;
  /** Another runtime. Default `new OnnxNodeRuntime()`. */
  runtime?: InferenceRuntime;
  /**
   * `'webgpu'`: offer onnxruntime's WebGPU provider (Dawn on Vulkan) as the accelerator; each model is
   * probed on it and served there only when its bundle allows `webgpu`, its self-tests pass and it is
   * faster than the CPU (see `agent.executionProvider`). Ignored when `accelerator` is given.
   */
  gpu?: 'webgpu';
}

/** SHA-256 hex with node:crypto (several times faster than the portable one). */
export const nodeSha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Starts an agent: serves the verified model found in `dataDir` at once, resumes an interrupted
 * update, then connects to the server and follows its desired state.
 */
export async function createAgent(o: CreateAgentOptions): Promise<Agent> {
  if (!o.storage && !o.dataDir) throw new AgentError('AGENT_CONFIG_INVALID', 'give dataDir (or storage)');
  const storage = o.storage ?? (await FileStorage.open(o.dataDir!));
  const accelerator = o.accelerator ?? (o.gpu === 'webgpu' ? { runtime: new OnnxNodeRuntime({ executionProvider: 'webgpu' }) } : undefined);
  return startWith({ ...o, accelerator }, { storage, runtime: o.runtime ?? new OnnxNodeRuntime(), hash: nodeSha256Hex }, 'mqtt');
}

export * from './entry-exports.ts';
export type { CommonAgentOptions } from './core/compose.ts';
export type { InstallResult } from './core/sideload.ts';
export { AGENT_ERROR_CODES, type AgentErrorCode } from './errors.ts';
export { AGENT_VERSION } from './version.ts';
export { FileStorage } from './storage/file-storage.ts';
export { assertKey, type AgentStorage } from './storage/agent-storage.ts';
export { OnnxNodeRuntime } from './runtime/onnx-node-runtime.ts';
export type { InferenceRuntime, ModelSession, TensorValue } from './runtime/inference-runtime.ts';
export { WrappedRuntime } from './runtime/wrapped-runtime.ts';
export type { TelemetryOptions } from './telemetry/telemetry-service.ts';
export type { DeviceConditions, UpdateLock } from './update/update-gate.ts';
export type { RetryOptions } from './update/retry-policy.ts';
export { PREPROCESSING_OPS } from './preprocess/ops.ts';
// The feature contract lives in the bundle package (the server computes reference profiles with it).
export { SUMMARY_FEATURES, contrast, edgeDensity, imageLayout, luminance, meanBrightness } from '@flotilla/firmware-bundler';
export { TRANSITIONS } from './update/transitions.ts';
