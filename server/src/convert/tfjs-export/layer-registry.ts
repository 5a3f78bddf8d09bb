// Which converter handles each TensorFlow.js layer class.
import type { LayerConverter } from './layer-info.ts';
import {
  activationLayer,
  eluLayer,
  leakyReluLayer,
  preluLayer,
  reluLayer,
  softmaxLayer,
  thresholdedReluLayer,
} from './layers/activations.ts';
import { convLayer, depthwiseConvLayer, separableConvLayer } from './layers/convolution.ts';
import { denseLayer } from './layers/dense.ts';
import { addLayer, averageLayer, concatenateLayer, maximumLayer, minimumLayer, multiplyLayer } from './layers/merge.ts';
import { batchNormLayer } from './layers/normalization.ts';
import { averagePoolingLayer, globalAveragePoolingLayer, globalMaxPoolingLayer, maxPoolingLayer } from './layers/pooling.ts';
import { gruLayer, lstmLayer, simpleRnnLayer } from './layers/recurrent.ts';
import { flattenLayer, identityLayer, permuteLayer, reshapeLayer } from './layers/reshaping.ts';

/** Converters by `layer.getClassName()`. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Dense: denseLayer,
  Conv1D: convLayer,
  Conv2D: convLayer,
  DepthwiseConv2D: depthwiseConvLayer,
  SeparableConv2D: separableConvLayer,
  BatchNormalization: batchNormLayer,
  MaxPooling1D: maxPoolingLayer,
  MaxPooling2D: maxPoolingLayer,
  AveragePooling1D: averagePoolingLayer,
  AveragePooling2D: averagePoolingLayer,
  GlobalAveragePooling1D: globalAveragePoolingLayer,
  GlobalAveragePooling2D: globalAveragePoolingLayer,
  GlobalMaxPooling1D: globalMaxPoolingLayer,
  GlobalMaxPooling2D: globalMaxPoolingLayer,
  Flatten: flattenLayer,
  Reshape: reshapeLayer,
  Permute: permuteLayer,
  Dropout: identityLayer,
  SpatialDropout1D: identityLayer,
  GaussianNoise: identityLayer,
  GaussianDropout: identityLayer,
  AlphaDropout: identityLayer,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  PReLU: preluLayer,
  ThresholdedReLU: thresholdedReluLayer,
  Softmax: softmaxLayer,
  LSTM: lstmLayer,
  GRU: gruLayer,
  SimpleRNN: simpleRnnLayer,
  Add: addLayer,
  Multiply: multiplyLayer,
  Average: averageLayer,
  Maximum: maximumLayer,
  Minimum: minimumLayer,
  Concatenate: concatenateLayer,
};

/** Layer class names the exporter supports, sorted, for error messages and docs. */
export const SUPPORTED_LAYERS: readonly string[] = Object.keys(LAYER_CONVERTERS).sort();
