// BatchMatMul for the wasm backend that keeps transposed products on the XNNPACK path.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeAll, wasmTranspose } from './wasm-kernel-calls.ts';

/*
 * The stock kernel (tfjs-backend-wasm 4.22) uses XNNPACK only for a single, untransposed product
 * and otherwise falls back to a scalar triple loop. Backprop through every Dense layer asks for
 * transposed products (dx = dy·Wᵀ, dW = xᵀ·dy), so training spent most of its time in that loop.
 * Transposing the operand first is an O(size) copy; the product then runs on XNNPACK.
 */
function makeKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const wasm = args.backend as BackendWasm;
    const a = args.inputs['a'] as TensorInfo;
    const b = args.inputs['b'] as TensorInfo;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const single = (t: TensorInfo) => t.dtype === 'float32' && t.shape.slice(0, -2).every((d) => d === 1);
    if ((!transposeA && !transposeB) || !single(a) || !single(b)) return stock(args);
    const swapLast = (t: TensorInfo) =>
      wasmTranspose(
        wasm,
        t,
        [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)),
      );
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    const out = stock({ ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    if (a2 !== a) disposeAll(wasm, a2);
    if (b2 !== b) disposeAll(wasm, b2);
    return out;
  };
}

/** Kernel config wrapping wasm's BatchMatMul. */
export function batchMatMulConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeKernel(stock.kernelFunc) };
}
