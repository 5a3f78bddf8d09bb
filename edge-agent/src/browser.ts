// Browser entry of @flotilla/edge-agent: the same core on IndexedDB, onnxruntime-web (wasm) and MQTT over WebSocket.
import { startWith, type CommonAgentOptions } from './core/compose.ts';
import type { Agent } from './core/agent.ts';
import { IndexedDbStorage } from './storage/indexeddb-storage.ts';
import { OnnxWebRuntime, type OnnxWebRuntimeOptions } from './runtime/onnx-web-runtime.ts';
import type { AgentStorage } from './storage/agent-storage.ts';
import { OnnxWebGpuRuntime } from './runtime/onnx-webgpu-runtime.ts';

/** Options of {@link createBrowserAgent}. */
export interface BrowserAgentOptions extends CommonAgentOptions {
  /** IndexedDB database name. Default `flotilla-agent-{deviceId}`. */
  databaseName?: string;
  /** Another storage instead of IndexedDB. */
  storage?: AgentStorage;
  /** onnxruntime-web settings; `wasmPaths` must point at locally served ort-wasm files. */
  ort?: OnnxWebRuntimeOptions;
  /**
   * `'webgpu'`: offer the browser's GPU through onnxruntime-web's WebGPU provider. Each model is probed on
   * it and served there only when its bundle allows `webgpu`, its self-tests pass and it is faster than wasm
   * (`agent.executionProvider` says which serves and why). Ignored when `accelerator` is given.
   */
  gpu?: 'webgpu';
}

/** Starts an agent in a page: `mqttUrl` (or the server's `ws` URL [WIRE-3.3]) must be a `ws(s)://…/mqtt` URL. */
export async function createBrowserAgent(o: BrowserAgentOptions): Promise<Agent> {
  const storage = o.storage ?? (await IndexedDbStorage.open(o.databaseName ?? `flotilla-agent-${o.deviceId}`));
  const accelerator = o.accelerator ?? (o.gpu === 'webgpu' ? { runtime: new OnnxWebGpuRuntime(o.ort) } : undefined);
  return startWith({ ...o, accelerator }, { storage, runtime: new OnnxWebRuntime(o.ort) }, 'ws');
}

export * from './entry-exports.ts';
export { IndexedDbStorage } from './storage/indexeddb-storage.ts';
export { OnnxWebRuntime } from './runtime/onnx-web-runtime.ts';
export { OnnxWebGpuRuntime } from './runtime/onnx-webgpu-runtime.ts';
