// Depthwise convolution gradients for the wasm backend, which ships neither (needed by separable convs).
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Attrs = {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/*
 * Plain loops: a depthwise layer does (channel multiplier) multiply-adds per input value and tap,
 * a small fraction of a regular convolution's work, so there is little for XNNPACK to win here.
 * Both kernels visit every (output position, tap) pair once and skip taps that land in padding.
 */
function forEachTap(info: backend_util.Conv2DInfo, visit: (xOffset: number, dyOffset: number, wOffset: number) => void): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: oc } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let fy = 0; fy < fh; fy++) {
        const y = oy * sh - top + fy * dh;
        if (y < 0 || y >= h) continue;
        for (let ox = 0; ox < ow; ox++) {
          const dyOffset = ((b * oh + oy) * ow + ox) * oc;
          for (let fx = 0; fx < fw; fx++) {
            const x = ox * sw - left + fx * dw;
            if (x < 0 || x >= w) continue;
            visit(((b * h + y) * w + x) * c, dyOffset, (fy * fw + fx) * oc);
          }
        }
      }
    }
  }
}

type Shape4 = [number, number, number, number];

/** What both gradients start from: the convolution's geometry, the zeroed gradient and the forward tensor's and dy's values. */
function gradientSetup(
  wasm: BackendWasm,
  a: Attrs,
  xShape: Shape4,
  filterShape: Shape4,
  outShape: Shape4,
  operand: TensorInfo,
  dy: TensorInfo,
) {
  const info = backend_util.computeConv2DInfo(xShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  const out = wasm.makeOutput(outShape, 'float32');
  const grad = wasm.typedArrayFromHeap(out) as Float32Array;
  grad.fill(0);
  const values = wasm.typedArrayFromHeap(operand) as Float32Array;
  return { info, mult: info.outChannels / info.inChannels, out, grad, values, g: wasm.typedArrayFromHeap(dy) as Float32Array };
}

const backpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs['x'] as TensorInfo;
  const a = attrs as unknown as Attrs & { filterShape: Shape4 };
  const {
    info,
    mult,
    out,
    grad: dW,
    values: xv,
    g,
  } = gradientSetup(backend as BackendWasm, a, x.shape as Shape4, a.filterShape, a.filterShape, x, inputs['dy'] as TensorInfo);
  // Output channel d*mult+q reads input channel d; filter layout [fh, fw, inC, mult] flattens the same way.
  forEachTap(info, (xo, go, wo) => {
    for (let d = 0; d < info.inChannels; d++) {
      const v = xv[xo + d]!;
      for (let q = 0; q < mult; q++) dW[wo + d * mult + q] = dW[wo + d * mult + q]! + v * g[go + d * mult + q]!;
    }
  });
  return out;
};

const backpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const filter = inputs['filter'] as TensorInfo;
  const a = attrs as unknown as Attrs & { inputShape: Shape4 };
  const {
    info,
    mult,
    out,
    grad: dx,
    values: wv,
    g,
  } = gradientSetup(backend as BackendWasm, a, a.inputShape, filter.shape as Shape4, a.inputShape, filter, inputs['dy'] as TensorInfo);
  forEachTap(info, (xo, go, wo) => {
    for (let d = 0; d < info.inChannels; d++) {
      let sum = 0;
      for (let q = 0; q < mult; q++) sum += wv[wo + d * mult + q]! * g[go + d * mult + q]!;
      dx[xo + d] = dx[xo + d]! + sum;
    }
  });
  return out;
};

/** Kernel configs for `registerKernel` (wasm lacks both). */
export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: backpropFilter,
};
export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: backpropInput,
};
