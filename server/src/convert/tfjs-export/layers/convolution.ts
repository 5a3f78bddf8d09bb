// Keras Conv1D, Conv2D, DepthwiseConv2D and SeparableConv2D as ONNX Conv on channels-first tensors.
import type { ExportContext, Value } from '../export-context.ts';
import { applyActivation } from './activations.ts';
import { requireWeight, tuple, unsupportedConfig, type LayerConverter, type LayerInfo, type LayerWeight } from '../layer-info.ts';

/**
 * Explicit ONNX pads `[begin..., end...]` for Keras padding. TensorFlow's `same` puts the odd pixel at
 * the end (ONNX SAME_UPPER); explicit pads keep the graph free of auto_pad, which int8 kernels also accept.
 * Returns undefined when a spatial size is unknown (then SAME_UPPER is used).
 */
export function kerasPads(
  padding: string,
  spatial: (number | null)[],
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] | undefined {
  const n = kernel.length;
  if (padding === 'valid') return Array(2 * n).fill(0);
  if (spatial.some((d) => d === null)) return undefined;
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < n; i++) {
    const inSize = spatial[i]!;
    const outSize = Math.ceil(inSize / strides[i]!);
    const total = Math.max((outSize - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - inSize, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

/**
 * Keras kernels are [...k, inC, last]; ONNX wants the spatial axes last. `head` gives the leading ONNX dims
 * and `channel(i, o)` the ONNX channel that Keras's (input i, last-axis o) pair lands in.
 */
function spatialLast(
  kernel: LayerWeight,
  head: (inC: number, last: number) => number[],
  channel: (i: number, o: number, inC: number, last: number) => number,
): { dims: number[]; values: Float32Array } {
  const spatial = kernel.shape.slice(0, -2);
  const [inC, last] = kernel.shape.slice(-2) as [number, number];
  const spatialSize = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(kernel.values.length);
  for (let s = 0; s < spatialSize; s++)
    for (let i = 0; i < inC; i++)
      for (let o = 0; o < last; o++) out[channel(i, o, inC, last) * spatialSize + s] = kernel.values[(s * inC + i) * last + o]!;
  return { dims: [...head(inC, last), ...spatial], values: out };
}

/** Keras kernel [...k, inC/groups, outC] → ONNX weight [outC, inC/groups, ...k]. */
const kernelToOnnx = (kernel: LayerWeight) =>
  spatialLast(
    kernel,
    (inC, outC) => [outC, inC],
    (i, o, inC) => o * inC + i,
  );

/** Keras depthwise kernel [...k, inC, multiplier] → ONNX grouped weight [inC*multiplier, 1, ...k]: Keras output channel c*mult + m reads input channel c, as ONNX group c does. */
const depthwiseToOnnx = (kernel: LayerWeight) =>
  spatialLast(
    kernel,
    (inC, mult) => [inC * mult, 1],
    (c, m, _inC, mult) => c * mult + m,
  );

interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padding: string;
}

function geometry(layer: LayerInfo, rank: number): ConvGeometry {
  const n = rank - 2;
  if ((layer.config.dataFormat ?? 'channelsLast') !== 'channelsLast') unsupportedConfig(layer, `dataFormat=${layer.config.dataFormat}`);
  const kernelSize = layer.config.kernelSize ?? layer.config.poolSize;
  return {
    kernel: tuple(kernelSize, n),
    strides: tuple(layer.config.strides ?? kernelSize, n),
    dilations: tuple(layer.config.dilationRate ?? 1, n),
    padding: layer.config.padding ?? 'valid',
  };
}

/** Geometry attributes (pads or auto_pad, strides, dilations) of a Conv or pooling node. */
export function convAttrs(layer: LayerInfo, x: Value, withDilations = true): Record<string, number[] | string> {
  const g = geometry(layer, x.shape.length);
  // tfjs itself cannot run causal padding, so there is no reference to match.
  if (g.padding !== 'same' && g.padding !== 'valid') unsupportedConfig(layer, `padding=${g.padding}`);
  const pads = kerasPads(g.padding, x.shape.slice(1, -1), g.kernel, g.strides, g.dilations);
  return {
    kernel_shape: g.kernel,
    strides: g.strides,
    ...(withDilations ? { dilations: g.dilations } : {}),
    ...(pads ? { pads } : { auto_pad: 'SAME_UPPER' }),
  };
}

function conv(
  ctx: ExportContext,
  layer: LayerInfo,
  input: Value,
  w: { dims: number[]; values: Float32Array },
  group: number,
  useBias: boolean,
): Value {
  const x = ctx.channelsFirst(input);
  const weight = ctx.weight('kernel', w.dims, w.values);
  const bias = useBias ? layer.weights.get('bias') : undefined;
  const inputs = bias ? [x.name, weight, ctx.weight('bias', bias.shape, bias.values)] : [x.name, weight];
  const out = ctx.node('Conv', inputs, { ...convAttrs(layer, input), ...(group > 1 ? { group } : {}) });
  return applyActivation(ctx, { name: out, shape: layer.outputShape, channelsFirst: true }, layer.config.activation);
}

export const convLayer: LayerConverter = (ctx, layer, [x]) =>
  conv(ctx, layer, x!, kernelToOnnx(requireWeight(layer, 'kernel')), 1, layer.config.useBias !== false);

export const depthwiseConvLayer: LayerConverter = (ctx, layer, [x]) => {
  const k = requireWeight(layer, 'depthwise_kernel');
  return conv(ctx, layer, x!, depthwiseToOnnx(k), k.shape[k.shape.length - 2]!, layer.config.useBias !== false);
};

export const separableConvLayer: LayerConverter = (ctx, layer, [input]) => {
  const dw = requireWeight(layer, 'depthwise_kernel');
  const pw = requireWeight(layer, 'pointwise_kernel');
  const x = ctx.channelsFirst(input!);
  const dwW = depthwiseToOnnx(dw);
  const depthwise = ctx.node('Conv', [x.name, ctx.weight('depthwise_kernel', dwW.dims, dwW.values)], {
    ...convAttrs(layer, input!),
    group: dw.shape[dw.shape.length - 2]!,
  });
  const pwW = kernelToOnnx(pw);
  const bias = layer.config.useBias === false ? undefined : layer.weights.get('bias');
  const pwInputs = [depthwise, ctx.weight('pointwise_kernel', pwW.dims, pwW.values)];
  if (bias) pwInputs.push(ctx.weight('bias', bias.shape, bias.values));
  const out = ctx.node('Conv', pwInputs, { kernel_shape: pwW.dims.slice(2) });
  return applyActivation(ctx, { name: out, shape: layer.outputShape, channelsFirst: true }, layer.config.activation);
};
