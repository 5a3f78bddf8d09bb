// Conv2DBackpropFilter for the wasm backend, computed as one XNNPACK convolution instead of JS loops.
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasmKernel, disposeAll, wasmTranspose } from './wasm-kernel-calls.ts';

/*
 * The filter gradient dW[a,b,ci,co] = sum over n,oy,ox of xPadded[n, oy*s+a, ox*s+b, ci] * dy[n,oy,ox,co].
 * Read with ci as the batch, n as the input channel and dy as the filter, that sum is a plain
 * convolution: conv2d(x as [Cin,H,W,N], dy as [Ho,Wo,N,Cout], stride 1, dilation = forward stride)
 * gives [Cin,kh,kw,Cout]. wasm runs Conv2D through XNNPACK (SIMD, packed GEMM), so the gradient costs
 * about as much as the forward convolution.
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs['x'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got ${dataFormat}`);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const [, inHeight, inWidth] = x.shape as [number, number, number, number];
  // Pad only as far as the last tap reads; rows the forward pass never reached are left off.
  const bottom = Math.max(0, kh + (outHeight - 1) * sh - inHeight - top);
  const right = Math.max(0, kw + (outWidth - 1) * sw - inWidth - left);

  const xT = wasmTranspose(wasm, x, [3, 1, 2, 0]);
  const dyT = wasmTranspose(wasm, dy, [1, 2, 0, 3]);
  const conv = callWasmKernel(
    'Conv2D',
    wasm,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  disposeAll(wasm, xT, dyT);
  let grad = conv;
  // Forward convolutions that drop trailing input rows leave a few extra output rows here.
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    grad = callWasmKernel('Slice', wasm, { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0]!, kh, kw, conv.shape[3]!] });
    disposeAll(wasm, conv);
  }
  const out = wasmTranspose(wasm, grad, [1, 2, 0, 3]);
  disposeAll(wasm, grad);
  return out;
};

/** Kernel config for `registerKernel`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
