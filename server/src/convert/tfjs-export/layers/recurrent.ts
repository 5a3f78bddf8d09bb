// Keras LSTM, GRU and SimpleRNN as the ONNX recurrent ops, with TensorFlow.js's gate orders and activations.
import { floats, type AttrValue } from '@flotilla/firmware-bundler/onnx';
import type { ExportContext, Value } from '../export-context.ts';
import { requireWeight, transpose2d, unsupportedConfig, type LayerConverter, type LayerInfo } from '../layer-info.ts';

/** ONNX recurrent activation name and its alpha/beta, for a TensorFlow.js activation identifier. */
function rnnActivation(layer: LayerInfo, name: string | undefined): { op: string; alpha?: number; beta?: number } {
  switch (name) {
    case 'sigmoid':
      return { op: 'Sigmoid' };
    // tfjs's default recurrent activation: clip(0.2 x + 0.5, 0, 1).
    case 'hardSigmoid':
      return { op: 'HardSigmoid', alpha: 0.2, beta: 0.5 };
    case 'tanh':
      return { op: 'Tanh' };
    case 'relu':
      return { op: 'Relu' };
    case 'softsign':
      return { op: 'Softsign' };
    case 'softplus':
      return { op: 'Softplus' };
    default:
      return unsupportedConfig(layer, `recurrent activation '${name}'`);
  }
}

/** `activations`, `activation_alpha` and `activation_beta` attributes for the (f, g[, h]) functions. */
function activationAttrs(layer: LayerInfo, names: (string | undefined)[]): Record<string, AttrValue | undefined> {
  const acts = names.map((n) => rnnActivation(layer, n));
  // Alpha/beta lists are consumed by the functions that take parameters, in order.
  const alpha = acts.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
  const beta = acts.filter((a) => a.beta !== undefined).map((a) => a.beta!);
  return {
    activations: acts.map((a) => a.op),
    activation_alpha: alpha.length ? floats(alpha) : undefined,
    activation_beta: beta.length ? floats(beta) : undefined,
  };
}

/** Reorders gate blocks of a [rows, gates*units] Keras matrix and transposes it to ONNX [gates*units, rows]. */
function gatesToOnnx(values: Float32Array, rows: number, units: number, order: number[]): Float32Array {
  const gates = order.length;
  const t = transpose2d(values, rows, gates * units);
  const out = new Float32Array(t.length);
  order.forEach((src, dst) => out.set(t.subarray(src * units * rows, (src + 1) * units * rows), dst * units * rows));
  return out;
}

function checkSupported(layer: LayerInfo): void {
  if (layer.config.stateful) unsupportedConfig(layer, 'stateful=true');
  if (layer.config.goBackwards) unsupportedConfig(layer, 'goBackwards=true');
  if (layer.config.returnState) unsupportedConfig(layer, 'returnState=true');
}

function recurrent(
  op: 'LSTM' | 'GRU' | 'RNN',
  order: number[],
  gates: number,
  activationNames: (layer: LayerInfo) => (string | undefined)[],
): LayerConverter {
  return (ctx: ExportContext, layer, [input]): Value => {
    checkSupported(layer);
    const x = ctx.keras(input!);
    const units: number = layer.config.units;
    const kernel = requireWeight(layer, 'kernel');
    const recurrentKernel = requireWeight(layer, 'recurrent_kernel');
    const inputDim = kernel.shape[0]!;
    const W = ctx.weight('W', [1, gates * units, inputDim], gatesToOnnx(kernel.values, inputDim, units, order));
    const R = ctx.weight('R', [1, gates * units, units], gatesToOnnx(recurrentKernel.values, units, units, order));
    const inputs = [ctx.node('Transpose', [x.name], { perm: [1, 0, 2] }, 'time_major'), W, R];
    const bias = layer.config.useBias === false ? undefined : layer.weights.get('bias');
    if (bias) {
      // Keras has one bias per gate; ONNX splits it into input and recurrent halves, which add up.
      const b = new Float32Array(2 * gates * units);
      order.forEach((src, dst) => b.set(bias.values.subarray(src * units, (src + 1) * units), dst * units));
      inputs.push(ctx.weight('B', [1, 2 * gates * units], b));
    }
    const attrs: Record<string, AttrValue | undefined> = { hidden_size: units, ...activationAttrs(layer, activationNames(layer)) };
    // GRU: Keras (reset_after=false, the only form tfjs has) applies the reset gate before the recurrent matmul.
    if (op === 'GRU') attrs.linear_before_reset = 0;
    if (layer.config.returnSequences) {
      const [y] = ctx.multiNode(op, inputs, ['Y'], attrs);
      const squeezed = ctx.node('Squeeze', [y!, ctx.int64([1])]);
      return {
        name: ctx.node('Transpose', [squeezed], { perm: [1, 0, 2] }, 'batch_major'),
        shape: layer.outputShape,
        channelsFirst: false,
      };
    }
    const [, yh] = ctx.multiNode(op, inputs, [null, 'Y_h'], attrs);
    return { name: ctx.node('Squeeze', [yh!, ctx.int64([0])]), shape: layer.outputShape, channelsFirst: false };
  };
}

/** Keras LSTM gates are i, f, c, o; ONNX wants i, o, f, c. */
export const lstmLayer = recurrent('LSTM', [0, 3, 1, 2], 4, (l) => [
  l.config.recurrentActivation ?? 'hardSigmoid',
  l.config.activation ?? 'tanh',
  l.config.activation ?? 'tanh',
]);
/** Keras GRU gates are z, r, h, as in ONNX. */
export const gruLayer = recurrent('GRU', [0, 1, 2], 3, (l) => [
  l.config.recurrentActivation ?? 'hardSigmoid',
  l.config.activation ?? 'tanh',
]);
export const simpleRnnLayer = recurrent('RNN', [0], 1, (l) => [l.config.activation ?? 'tanh']);
