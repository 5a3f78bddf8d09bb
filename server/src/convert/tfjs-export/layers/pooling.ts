// Keras max/average pooling (1-D, 2-D) and global pooling as ONNX pooling ops on channels-first tensors.
import { convAttrs } from './convolution.ts';
import { unsupportedConfig, type LayerConverter } from '../layer-info.ts';

function pooling(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (ctx, layer, [input]) => {
    const x = ctx.channelsFirst(input!);
    // AveragePool's count_include_pad defaults to 0, matching TensorFlow's `same` averaging over real pixels only.
    const out = ctx.node(op, [x.name], convAttrs(layer, input!, false));
    return { name: out, shape: layer.outputShape, channelsFirst: true };
  };
}

export const maxPoolingLayer = pooling('MaxPool');
export const averagePoolingLayer = pooling('AveragePool');

function globalPooling(op: 'GlobalMaxPool' | 'GlobalAveragePool', reduce: 'ReduceMax' | 'ReduceMean'): LayerConverter {
  return (ctx, layer, [x]) => {
    if ((layer.config.dataFormat ?? 'channelsLast') !== 'channelsLast') unsupportedConfig(layer, `dataFormat=${layer.config.dataFormat}`);
    const keepDims = layer.config.keepDims === true;
    if (x!.channelsFirst) {
      const pooled = ctx.node(op, [x!.name]);
      if (keepDims) return { name: pooled, shape: layer.outputShape, channelsFirst: true };
      return { name: ctx.node('Flatten', [pooled], { axis: 1 }), shape: layer.outputShape, channelsFirst: false };
    }
    // Already channels-last (e.g. after a Reshape): reduce the spatial axes in place rather than transposing.
    const rank = x!.shape.length;
    const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
    const out = ctx.node(reduce, [x!.name], { axes, keepdims: keepDims ? 1 : 0 });
    return { name: out, shape: layer.outputShape, channelsFirst: false };
  };
}

export const globalAveragePoolingLayer = globalPooling('GlobalAveragePool', 'ReduceMean');
export const globalMaxPoolingLayer = globalPooling('GlobalMaxPool', 'ReduceMax');
