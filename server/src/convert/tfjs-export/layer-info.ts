// What a layer converter receives: the layer's class, config and weights, read once from TensorFlow.js.
import type * as tf from '@tensorflow/tfjs';
import type { ExportContext, Value } from './export-context.ts';
import { ExportError } from '../convert-error.ts';

/** One weight of a layer, keyed by its Keras name (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
export interface LayerWeight {
  shape: number[];
  values: Float32Array;
}

export interface LayerInfo {
  className: string;
  name: string;
  /** `layer.getConfig()`: camelCase keys as TensorFlow.js serializes them. */
  config: Record<string, any>;
  weights: Map<string, LayerWeight>;
  /** Keras output shape of the call being converted (batch first, null when dynamic). */
  outputShape: (number | null)[];
}

/** Turns one layer call into ONNX nodes; returns the output value. */
export type LayerConverter = (ctx: ExportContext, layer: LayerInfo, inputs: Value[]) => Value;

/** Reads a layer's class, config and current weight values. */
export function describeLayer(layer: tf.layers.Layer, outputShape: (number | null)[]): LayerInfo {
  const weights = new Map<string, LayerWeight>();
  for (const w of layer.weights) {
    const key = (w.originalName ?? w.name).split('/').pop()!.replace(/_\d+$/, '');
    weights.set(key, { shape: [...w.shape] as number[], values: w.read().dataSync() as Float32Array });
  }
  return { className: layer.getClassName(), name: layer.name, config: layer.getConfig() as Record<string, any>, weights, outputShape };
}

/** A weight the layer must have; a missing one means the model is not what its config says. */
export function requireWeight(layer: LayerInfo, key: string): LayerWeight {
  const w = layer.weights.get(key);
  if (!w) throw new ExportError('EXPORT_INVALID_MODEL', `layer '${layer.name}' (${layer.className}) has no '${key}' weight`);
  return w;
}

/** A config value that may be a number or a list, as a list of `n` numbers. */
export function tuple(v: unknown, n: number): number[] {
  if (typeof v === 'number') return Array(n).fill(v);
  if (Array.isArray(v) && v.length === n) return v.map(Number);
  if (Array.isArray(v) && v.length === 1) return Array(n).fill(Number(v[0]));
  return Array(n).fill(1);
}

/** Refuses a config value the exporter cannot reproduce. */
export function unsupportedConfig(layer: LayerInfo, what: string): never {
  throw new ExportError(
    'EXPORT_UNSUPPORTED_CONFIG',
    `layer '${layer.name}' (${layer.className}): ${what} is not supported by the ONNX exporter`,
    {
      layer: layer.name,
      className: layer.className,
    },
  );
}

/** Transposes a row-major matrix [rows, cols] to [cols, rows]. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}
