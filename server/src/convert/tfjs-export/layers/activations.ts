// Keras activation functions and activation layers (ReLU, LeakyReLU, ELU, PReLU, Softmax, ...) as ONNX ops.
import { float } from '@flotilla/firmware-bundler/onnx';
import type { ExportContext, Value } from '../export-context.ts';
import { requireWeight, unsupportedConfig, type LayerConverter } from '../layer-info.ts';
import { ExportError } from '../../convert-error.ts';

/** Activation identifiers `applyActivation` understands (TensorFlow.js serialized names). */
export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softmax',
  'logSoftmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

const same = (v: Value, name: string): Value => ({ ...v, name });

/** Applies a Keras activation (by its serialized name) elementwise, or along the last Keras axis for softmax. */
export function applyActivation(ctx: ExportContext, v: Value, activation: string | undefined): Value {
  const x = v.name;
  switch (activation ?? 'linear') {
    case 'linear':
      return v;
    case 'relu':
      return same(v, ctx.node('Relu', [x]));
    case 'relu6':
      return same(v, ctx.node('Clip', [x, ctx.scalar(0), ctx.scalar(6)], {}, 'Relu6'));
    case 'sigmoid':
      return same(v, ctx.node('Sigmoid', [x]));
    case 'hardSigmoid':
      // tfjs: clip(0.2 x + 0.5, 0, 1), which is ONNX HardSigmoid with these alpha/beta.
      return same(v, ctx.node('HardSigmoid', [x], { alpha: float(0.2), beta: float(0.5) }));
    case 'tanh':
      return same(v, ctx.node('Tanh', [x]));
    case 'softmax':
      return same(v, ctx.node('Softmax', [x], { axis: ctx.axis(v, -1) }));
    case 'logSoftmax':
      return same(v, ctx.node('LogSoftmax', [x], { axis: ctx.axis(v, -1) }));
    case 'elu':
      return same(v, ctx.node('Elu', [x], { alpha: float(1) }));
    case 'selu':
      return same(v, ctx.node('Selu', [x], { alpha: float(1.6732632423543772), gamma: float(1.0507009873554805) }));
    case 'softplus':
      return same(v, ctx.node('Softplus', [x]));
    case 'softsign':
      return same(v, ctx.node('Softsign', [x]));
    case 'swish':
      return same(v, ctx.node('Mul', [x, ctx.node('Sigmoid', [x])], {}, 'Swish'));
    case 'mish':
      // Mish is an ONNX op only from opset 18; spelled out for opset 13.
      return same(v, ctx.node('Mul', [x, ctx.node('Tanh', [ctx.node('Softplus', [x])])], {}, 'Mish'));
    case 'gelu': {
      const erf = ctx.node('Erf', [ctx.node('Div', [x, ctx.scalar(Math.SQRT2)])]);
      const cdf = ctx.node('Mul', [ctx.node('Add', [erf, ctx.scalar(1)]), ctx.scalar(0.5)]);
      return same(v, ctx.node('Mul', [x, cdf], {}, 'Gelu'));
    }
    case 'gelu_new': {
      const cube = ctx.node('Mul', [ctx.node('Mul', [x, x]), x]);
      const inner = ctx.node('Mul', [
        ctx.node('Add', [x, ctx.node('Mul', [cube, ctx.scalar(0.044715)])]),
        ctx.scalar(Math.sqrt(2 / Math.PI)),
      ]);
      const t = ctx.node('Add', [ctx.node('Tanh', [inner]), ctx.scalar(1)]);
      return same(v, ctx.node('Mul', [ctx.node('Mul', [x, t]), ctx.scalar(0.5)], {}, 'GeluNew'));
    }
    default:
      throw new ExportError(
        'EXPORT_UNSUPPORTED_CONFIG',
        `activation '${activation}' is not supported; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}`,
      );
  }
}

export const activationLayer: LayerConverter = (ctx, layer, [x]) => applyActivation(ctx, x!, layer.config.activation);

export const reluLayer: LayerConverter = (ctx, layer, [x]) => {
  const max = layer.config.maxValue;
  if (max === null || max === undefined) return same(x!, ctx.node('Relu', [x!.name]));
  return same(x!, ctx.node('Clip', [x!.name, ctx.scalar(0), ctx.scalar(max)], {}, 'ReluMax'));
};

export const leakyReluLayer: LayerConverter = (ctx, layer, [x]) =>
  same(x!, ctx.node('LeakyRelu', [x!.name], { alpha: float(layer.config.alpha ?? 0.3) }));

export const eluLayer: LayerConverter = (ctx, layer, [x]) => {
  // tfjs's ELU kernel only implements alpha = 1 (it throws otherwise), so anything else cannot match predict.
  if ((layer.config.alpha ?? 1) !== 1) unsupportedConfig(layer, `alpha=${layer.config.alpha}`);
  return same(x!, ctx.node('Elu', [x!.name], { alpha: float(1) }));
};

export const thresholdedReluLayer: LayerConverter = (ctx, layer, [x]) =>
  same(x!, ctx.node('ThresholdedRelu', [x!.name], { alpha: float(layer.config.theta ?? 1) }));

export const softmaxLayer: LayerConverter = (ctx, layer, [x]) => {
  const axis = layer.config.axis ?? -1;
  if (Array.isArray(axis) && axis.length !== 1) unsupportedConfig(layer, 'softmax over several axes');
  const a = Array.isArray(axis) ? axis[0] : axis;
  return same(x!, ctx.node('Softmax', [x!.name], { axis: ctx.axis(x!, a) }));
};

export const preluLayer: LayerConverter = (ctx, layer, [x]) => {
  // The slope has the Keras shape of one sample (shared axes are 1), so apply it in Keras layout.
  const k = ctx.keras(x!);
  const alpha = requireWeight(layer, 'alpha');
  const slope = ctx.weight('alpha', alpha.shape, alpha.values);
  return same(k, ctx.node('PRelu', [k.name, slope]));
};
