// Keras BatchNormalization (inference form, moving statistics) as ONNX BatchNormalization.
import { float } from '@flotilla/firmware-bundler/onnx';
import { requireWeight, unsupportedConfig, type LayerConverter } from '../layer-info.ts';

export const batchNormLayer: LayerConverter = (ctx, layer, [input]) => {
  const rank = input!.shape.length;
  const axisCfg = layer.config.axis ?? -1;
  const axis = Array.isArray(axisCfg) ? axisCfg : [axisCfg];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== rank - 1))
    unsupportedConfig(layer, `axis=${JSON.stringify(axisCfg)} (only the channel axis)`);
  // ONNX normalizes axis 1, which is the Keras channel axis once the tensor is channels-first.
  const x = ctx.channelsFirst(input!);
  const mean = requireWeight(layer, 'moving_mean');
  const variance = requireWeight(layer, 'moving_variance');
  const c = mean.shape[0]!;
  const gamma = layer.config.scale === false ? undefined : layer.weights.get('gamma');
  const beta = layer.config.center === false ? undefined : layer.weights.get('beta');
  const inputs = [
    x.name,
    ctx.weight('gamma', [c], gamma?.values ?? new Float32Array(c).fill(1)),
    ctx.weight('beta', [c], beta?.values ?? new Float32Array(c)),
    ctx.weight('moving_mean', [c], mean.values),
    ctx.weight('moving_variance', [c], variance.values),
  ];
  const out = ctx.node('BatchNormalization', inputs, { epsilon: float(layer.config.epsilon ?? 1e-3) });
  return { name: out, shape: layer.outputShape, channelsFirst: x.channelsFirst };
};
