// Keras Dense as ONNX Gemm (2-D input) or MatMul + Add (higher rank, applied along the last axis).
import { applyActivation } from './activations.ts';
import { requireWeight, type LayerConverter } from '../layer-info.ts';

export const denseLayer: LayerConverter = (ctx, layer, [input]) => {
  const x = ctx.keras(input!);
  const kernel = requireWeight(layer, 'kernel');
  const w = ctx.weight('kernel', kernel.shape, kernel.values);
  const bias = layer.config.useBias === false ? undefined : layer.weights.get('bias');
  const b = bias ? ctx.weight('bias', bias.shape, bias.values) : undefined;
  let out: string;
  if (x.shape.length === 2) out = ctx.node('Gemm', b ? [x.name, w, b] : [x.name, w], {}, 'Gemm');
  else {
    const mm = ctx.node('MatMul', [x.name, w]);
    out = b ? ctx.node('Add', [mm, b], {}, 'BiasAdd') : mm;
  }
  return applyActivation(ctx, { name: out, shape: layer.outputShape, channelsFirst: false }, layer.config.activation);
};
