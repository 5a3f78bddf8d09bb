// Conv2DBackpropInput for the wasm backend as one XNNPACK convolution (the stock kernel is a scalar loop).
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasmKernel, disposeAll } from './wasm-kernel-calls.ts';

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/*
 * dx is the correlation of dy, zero-stuffed by the stride, with the filter flipped in space and with
 * its channel axes swapped, padded by (kernel - 1 - forward pad). Stuffing and flipping are cheap
 * O(size) copies; the arithmetic runs in wasm's XNNPACK Conv2D.
 */
function makeKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const wasm = args.backend as BackendWasm;
    const dy = args.inputs['dy'] as TensorInfo;
    const filter = args.inputs['filter'] as TensorInfo;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    const [kh, kw, inC, outC] = filter.shape as [number, number, number, number];
    const info = backend_util.computeConv2DInfo(inputShape, [kh, kw, inC, outC], strides, 1, pad, dimRoundingMode, false, format);
    const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w, batchSize: n } = info;
    const padTop = kh - 1 - info.padInfo.top;
    const padLeft = kw - 1 - info.padInfo.left;
    const stuffedH = (oh - 1) * sh + 1;
    const stuffedW = (ow - 1) * sw + 1;
    const padBottom = h + kh - 1 - padTop - stuffedH;
    const padRight = w + kw - 1 - padLeft - stuffedW;
    // Only explicit paddings wider than the kernel produce negative pads; leave those to the stock kernel.
    if (format !== 'channelsLast' || Math.min(padTop, padLeft, padBottom, padRight) < 0) return fallback(args);

    const flipped = wasm.makeOutput([kh, kw, outC, inC], 'float32');
    const fOut = wasm.typedArrayFromHeap(flipped) as Float32Array;
    const fIn = wasm.typedArrayFromHeap(filter) as Float32Array;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const src = ((kh - 1 - a) * kw + (kw - 1 - b)) * inC * outC;
        const dst = (a * kw + b) * outC * inC;
        for (let ci = 0; ci < inC; ci++) for (let co = 0; co < outC; co++) fOut[dst + co * inC + ci] = fIn[src + ci * outC + co]!;
      }
    }

    let input = dy;
    if (sh > 1 || sw > 1) {
      input = wasm.makeOutput([n, stuffedH, stuffedW, outC], 'float32');
      const sOut = wasm.typedArrayFromHeap(input) as Float32Array;
      const sIn = wasm.typedArrayFromHeap(dy) as Float32Array;
      sOut.fill(0);
      for (let i = 0; i < n; i++) {
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            const src = ((i * oh + y) * ow + x) * outC;
            const dst = ((i * stuffedH + y * sh) * stuffedW + x * sw) * outC;
            sOut.set(sIn.subarray(src, src + outC), dst);
          }
        }
      }
    }
    const dx = callWasmKernel(
      'Conv2D',
      wasm,
      { x: input, filter: flipped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    disposeAll(wasm, flipped);
    if (input !== dy) disposeAll(wasm, input);
    return dx;
  };
}

/** Kernel config replacing wasm's Conv2DBackpropInput; `stock` handles the layouts this one does not. */
export function conv2DBackpropInputConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeKernel(stock.kernelFunc) };
}
