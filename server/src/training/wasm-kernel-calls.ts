// Thin typed calls into kernels the wasm backend already has, for composing new kernels from them.
import { getKernel } from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Runs the wasm backend's own kernel `name` directly (no tape, no engine bookkeeping). */
export function callWasmKernel(name: string, backend: BackendWasm, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const config = getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned several outputs`);
  return out;
}

/** Transposes `x` by `perm` with the wasm Transpose kernel. */
export function wasmTranspose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasmKernel('Transpose', backend, { x }, { perm });
}

/** Frees intermediate results created by `callWasmKernel`. */
export function disposeAll(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}
