// MaxPoolGrad for the wasm backend: routes each output gradient to the first maximum of its window.
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/*
 * Replaces the stock wasm kernel, which (tfjs-backend-wasm 4.22) seeds its running maximum with
 * FLT_MIN, the smallest *positive* float: any window whose values are all <= 0 sends its gradient
 * to the wrong place. This version follows the cpu backend exactly: padding never wins, ties go to
 * the first position in row-major window order, NaN never wins.
 */
const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const dy = inputs['dy'] as TensorInfo;
  const input = inputs['input'] as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;

  const dx = wasm.makeOutput(input.shape, 'float32');
  const out = wasm.typedArrayFromHeap(dx) as Float32Array;
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const g = wasm.typedArrayFromHeap(dy) as Float32Array;
  out.fill(0);
  // Per-channel running maxima, so the inner loop walks contiguous NHWC channels.
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        best.fill(-Infinity);
        where.fill(-1);
        for (let fy = 0; fy < fh; fy++) {
          const y = oy * sh - top + fy;
          if (y < 0 || y >= h) continue;
          for (let fx = 0; fx < fw; fx++) {
            const xc = ox * sw - left + fx;
            if (xc < 0 || xc >= w) continue;
            const base = ((b * h + y) * w + xc) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const gBase = ((b * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const at = where[ch]!;
          if (at >= 0) out[at] = out[at]! + g[gBase + ch]!;
        }
      }
    }
  }
  return dx;
};

/** Kernel config replacing wasm's MaxPoolGrad (keeps the stock setup so registration order does not matter). */
export function maxPoolGradConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: maxPoolGrad };
}
