// Keras Flatten, Reshape and Permute (on the Keras channels-last order), and layers that are identities at inference.
import type { LayerConverter } from '../layer-info.ts';

export const flattenLayer: LayerConverter = (ctx, layer, [input]) => {
  // Keras flattens channels-last data; restoring that order first keeps the following Dense weights valid.
  const x = ctx.keras(input!);
  return { name: ctx.node('Flatten', [x.name], { axis: 1 }), shape: layer.outputShape, channelsFirst: false };
};

export const reshapeLayer: LayerConverter = (ctx, layer, [input]) => {
  const x = ctx.keras(input!);
  // tfjs serializes the inferred dimension (-1) as null.
  const target = (layer.config.targetShape as (number | null)[]).map((d) => d ?? -1);
  // 0 copies the batch dimension; -1 would clash with a -1 already in the target shape.
  const shape = ctx.int64([target.includes(-1) ? 0 : -1, ...target]);
  return { name: ctx.node('Reshape', [x.name, shape]), shape: layer.outputShape, channelsFirst: false };
};

export const permuteLayer: LayerConverter = (ctx, layer, [input]) => {
  const x = ctx.keras(input!);
  const dims: number[] = layer.config.dims;
  return { name: ctx.node('Transpose', [x.name], { perm: [0, ...dims] }), shape: layer.outputShape, channelsFirst: false };
};

/** Dropout and noise layers do nothing at inference, so they add no node. */
export const identityLayer: LayerConverter = (_ctx, layer, [x]) => ({ ...x!, shape: layer.outputShape });
