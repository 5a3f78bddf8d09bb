// Registers the training kernels the wasm backend lacks or gets wrong, so models train on wasm.
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { batchMatMulConfig } from './batch-mat-mul-fast.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-conv2d-grads.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';

/** Kernels tfjs-backend-wasm 4.22 does not have at all. */
const MISSING: KernelConfig[] = [conv2DBackpropFilterConfig, depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig];

/** Stock kernels replaced: wrong (MaxPoolGrad) or scalar loops where XNNPACK can do the work. */
const REPLACED: Record<string, (stock: KernelConfig) => KernelConfig> = {
  MaxPoolGrad: maxPoolGradConfig,
  Conv2DBackpropInput: conv2DBackpropInputConfig,
  BatchMatMul: batchMatMulConfig,
};

const ours = new WeakSet<KernelConfig>();
/** The stock configs we replaced, kept so benchmarks can switch back. */
const stock = new Map<string, KernelConfig>();

function install(config: KernelConfig): void {
  if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
  registerKernel(config);
  ours.add(config);
}

/**
 * Registers Flotilla's wasm training kernels: Conv2DBackpropFilter and the two depthwise gradients
 * (missing from tfjs-backend-wasm), plus replacements for MaxPoolGrad, Conv2DBackpropInput and
 * BatchMatMul. Call after importing `@tensorflow/tfjs-backend-wasm` (replacements wrap its kernels)
 * and before or after the backend starts. Idempotent.
 * @returns the kernel names this call registered (empty on repeat calls).
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of MISSING) {
    const current = getKernel(config.kernelName, 'wasm');
    // A newer tfjs-backend-wasm may ship its own; keep it.
    if (current) continue;
    install(config);
    added.push(config.kernelName);
  }
  for (const [name, replace] of Object.entries(REPLACED)) {
    const current = getKernel(name, 'wasm');
    if (!current || ours.has(current)) continue;
    stock.set(name, current);
    install(replace(current));
    added.push(name);
  }
  return added;
}

/**
 * Switches the replaced kernels (MaxPoolGrad, Conv2DBackpropInput, BatchMatMul) back to tfjs-backend-wasm's
 * own (`false`) or to Flotilla's (`true`), for before/after benchmarks. The missing kernels stay.
 * Note the stock MaxPoolGrad gives wrong gradients for windows whose values are all <= 0.
 */
export function useWasmKernelReplacements(on: boolean): void {
  for (const [name, replace] of Object.entries(REPLACED)) {
    const original = stock.get(name);
    if (!original) continue;
    if (on) install(replace(original));
    else {
      unregisterKernel(name, 'wasm');
      registerKernel(original);
    }
  }
}
