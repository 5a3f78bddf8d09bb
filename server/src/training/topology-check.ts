// Structural checks of a TensorFlow.js LayersModel topology before it is built (the builder checks the rest).
import * as tf from '@tensorflow/tfjs';
import type { ModelContext } from './model-spec.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Layers whose randomness tfjs does not let us seed, so runs using them are not reproducible. */
const UNSEEDABLE = new Set(['GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
export const MAX_TOPOLOGY_LAYERS = 256;

/** Accepts a topology object, its JSON string, or a model.json (`{ modelTopology, ... }`); returns the topology. */
export function unwrapTopology(topology: unknown): { topology?: Json; error?: string } {
  let value = topology;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      return { error: `topology is not valid JSON: ${(err as Error).message}` };
    }
  }
  if (isObject(value) && isObject(value['modelTopology'])) value = value['modelTopology'];
  if (!isObject(value)) return { error: 'topology must be an object' };
  return { topology: value };
}

function inputShapeOf(layer: Json): unknown[] | undefined {
  const config = isObject(layer['config']) ? layer['config'] : {};
  const shape = config['batch_input_shape'] ?? config['batchInputShape'];
  return Array.isArray(shape) ? shape : undefined;
}

/**
 * Checks: class Sequential or Model; 1..MAX_TOPOLOGY_LAYERS layers; every layer class known to
 * tfjs-layers; for Sequential, the declared input holds as many values as one sample of the dataset
 * and the last layer is a softmax Dense (or Dense then Softmax/Activation softmax) of numClasses units.
 */
export function checkTopology(input: unknown, ctx: ModelContext): { errors: string[]; notes: string[] } {
  const errors: string[] = [];
  const notes: string[] = [];
  const { topology, error } = unwrapTopology(input);
  if (!topology) return { errors: [error!], notes };
  const className = topology['class_name'] ?? topology['className'];
  if (className !== 'Sequential' && className !== 'Model')
    errors.push(`topology.class_name must be 'Sequential' or 'Model', got ${JSON.stringify(className)}`);
  const config = topology['config'];
  const layers = isObject(config) ? config['layers'] : undefined;
  if (!Array.isArray(layers) || layers.length === 0)
    return { errors: [...errors, 'topology.config.layers must be a non-empty list'], notes };
  if (layers.length > MAX_TOPOLOGY_LAYERS) errors.push(`topology has ${layers.length} layers; the limit is ${MAX_TOPOLOGY_LAYERS}`);
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const [i, layer] of layers.entries()) {
    const cls = isObject(layer) ? (layer['class_name'] ?? layer['className']) : undefined;
    if (typeof cls !== 'string') errors.push(`topology.config.layers[${i}].class_name is required`);
    else if (!(cls in known)) errors.push(`topology.config.layers[${i}] has unknown layer class '${cls}'`);
    else if (UNSEEDABLE.has(cls))
      notes.push(`topology.config.layers[${i}] (${cls}) draws unseeded noise: runs with it are not reproducible`);
  }
  if (className === 'Sequential' && errors.length === 0) {
    const shape = inputShapeOf(layers[0] as Json);
    const sample = ctx.inputShape.reduce((a, b) => a * b, 1);
    if (!shape) errors.push('topology.config.layers[0] must declare batch_input_shape');
    else {
      const dims = shape.slice(1);
      const ok = dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0);
      const values = ok ? (dims as number[]).reduce((a, b) => a * b, 1) : NaN;
      if (values !== sample)
        errors.push(
          `topology input shape ${JSON.stringify(dims)} does not take one sample of shape [${ctx.inputShape.join(',')}] (${sample} values)`,
        );
    }
    checkSequentialOutput(layers as Json[], ctx.numClasses, errors);
  }
  return { errors, notes };
}

function checkSequentialOutput(layers: Json[], numClasses: number, errors: string[]): void {
  const cfg = (l: Json | undefined): Json => (l && isObject(l['config']) ? l['config'] : {});
  const cls = (l: Json | undefined) => l?.['class_name'] ?? l?.['className'];
  const last = layers[layers.length - 1];
  let dense = last;
  let softmax = cfg(last)['activation'] === 'softmax';
  if (cls(last) === 'Softmax' || (cls(last) === 'Activation' && cfg(last)['activation'] === 'softmax')) {
    dense = layers[layers.length - 2];
    softmax = true;
  }
  if (cls(dense) !== 'Dense') {
    errors.push(`topology must end in a Dense layer of ${numClasses} units with softmax (the loss expects probabilities)`);
    return;
  }
  if (cfg(dense)['units'] !== numClasses)
    errors.push(`topology output Dense has ${String(cfg(dense)['units'])} units; the dataset has ${numClasses} classes`);
  if (!softmax) errors.push('topology output must apply softmax (the loss expects probabilities)');
}
