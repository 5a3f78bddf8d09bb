// Builds an uncompiled tfjs LayersModel from a validated spec, with every random initializer seeded.
import * as tf from '@tensorflow/tfjs';
import { planLayers, type PlannedLayer } from './layer-plan.ts';
import type { ModelContext, ModelSpec } from './model-spec.ts';
import { validateModelSpec } from './validate-model-spec.ts';
import { deriveSeed } from '../random/seeded-random.ts';
import { ModelSpecError } from './training-errors.ts';
import { unwrapTopology } from './topology-check.ts';

export interface BuildOptions extends ModelContext {
  /** Seeds every initializer (and the first dropout masks); same seed, same initial weights. */
  seed: number;
}

/** Initializer classes that draw random numbers and accept a `seed`. */
const RANDOM_INITIALIZERS = new Set([
  'RandomNormal',
  'RandomUniform',
  'TruncatedNormal',
  'VarianceScaling',
  'GlorotUniform',
  'GlorotNormal',
  'HeUniform',
  'HeNormal',
  'LeCunUniform',
  'LeCunNormal',
  'Orthogonal',
]);

/**
 * Validates `spec` (throws ModelSpecError listing every problem) and builds the model it describes.
 * Layer lists follow the rules of `planLayers` (auto reshape/flatten, softmax output of numClasses
 * units). Topologies are deserialised as given, except that random initializers without a seed get
 * one derived from `seed`; the built model must map one sample to numClasses outputs.
 * The model is not compiled: `trainModel` owns the optimizer.
 */
export async function buildModel(spec: unknown, opts: BuildOptions): Promise<tf.LayersModel> {
  const checked = validateModelSpec(spec, opts);
  if (!checked.ok) throw new ModelSpecError(checked.errors);
  return 'layers' in checked.spec ? buildLayerList(checked.spec, opts) : buildTopology(checked.spec, opts);
}

function buildLayerList(spec: Extract<ModelSpec, { layers: unknown }>, opts: BuildOptions): tf.LayersModel {
  const plan = planLayers(spec.layers, opts);
  if (!plan.ok) throw new ModelSpecError(plan.errors);
  const model = tf.sequential({ name: 'flotilla_model' });
  for (const [k, planned] of plan.layers.entries()) model.add(makeLayer(planned, k, opts, k === 0 ? opts.inputShape : undefined));
  return model;
}

function makeLayer(planned: PlannedLayer, k: number, opts: BuildOptions, inputShape: number[] | undefined): tf.layers.Layer {
  const s = planned.spec;
  const base = { name: planned.origin === 'output' ? 'output' : `${s.type}_${k}`, ...(inputShape ? { inputShape } : {}) };
  const kernelInitializer = tf.initializers.glorotUniform({ seed: deriveSeed(opts.seed, k, 0) });
  switch (s.type) {
    case 'dense':
      return tf.layers.dense({
        ...base,
        units: s.units,
        activation: s.activation ?? 'linear',
        useBias: s.useBias ?? true,
        kernelInitializer,
        biasInitializer: 'zeros',
      });
    case 'conv2d':
      return tf.layers.conv2d({
        ...base,
        filters: s.filters,
        kernelSize: s.kernelSize,
        strides: s.strides ?? 1,
        padding: s.padding ?? 'valid',
        activation: s.activation ?? 'linear',
        kernelInitializer,
        biasInitializer: 'zeros',
      });
    case 'maxPooling2d':
      return tf.layers.maxPooling2d({ ...base, poolSize: s.poolSize, strides: s.strides ?? s.poolSize, padding: s.padding ?? 'valid' });
    case 'averagePooling2d':
      return tf.layers.averagePooling2d({ ...base, poolSize: s.poolSize, strides: s.strides ?? s.poolSize, padding: s.padding ?? 'valid' });
    case 'flatten':
      return tf.layers.flatten(base);
    case 'dropout':
      // The train loop re-seeds dropout every step (see layer-seeds.ts); this seed only covers direct calls.
      return tf.layers.dropout({ ...base, rate: s.rate, seed: deriveSeed(opts.seed, k, 1) });
    case 'batchNormalization':
      return tf.layers.batchNormalization({ ...base, momentum: s.momentum ?? 0.99, epsilon: s.epsilon ?? 1e-3 });
    case 'activation':
      return tf.layers.activation({ ...base, activation: s.activation });
    case 'reshape':
      return tf.layers.reshape({ ...base, targetShape: s.targetShape });
  }
}

/** Gives every unseeded random initializer in a topology a seed derived from `seed`, in document order. */
export function seedInitializers(node: unknown, seed: number, counter = { n: 0 }): void {
  if (Array.isArray(node)) {
    for (const item of node) seedInitializers(item, seed, counter);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const cls = obj['class_name'] ?? obj['className'];
  const config = obj['config'];
  if (typeof cls === 'string' && RANDOM_INITIALIZERS.has(cls) && typeof config === 'object' && config !== null) {
    const c = config as Record<string, unknown>;
    if (c['seed'] === undefined || c['seed'] === null) c['seed'] = deriveSeed(seed, 1000 + counter.n++);
  }
  for (const value of Object.values(obj)) seedInitializers(value, seed, counter);
}

async function buildTopology(spec: Extract<ModelSpec, { topology: unknown }>, opts: BuildOptions): Promise<tf.LayersModel> {
  const { topology, error } = unwrapTopology(spec.topology);
  if (!topology) throw new ModelSpecError([error!]);
  const copy = structuredClone(topology);
  seedInitializers(copy, opts.seed);
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: copy as tf.io.ModelJSON['modelTopology'] });
  } catch (err) {
    throw new ModelSpecError([`topology could not be built: ${(err as Error).message}`]);
  }
  const errors: string[] = [];
  const sample = opts.inputShape.reduce((a, b) => a * b, 1);
  const inShape = model.inputs.length === 1 ? model.inputs[0]!.shape.slice(1) : [];
  const outShape = model.outputs.length === 1 ? model.outputs[0]!.shape : [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) errors.push('topology must have exactly one input and one output');
  else {
    if (inShape.some((d) => d === null) || (inShape as number[]).reduce((a, b) => a * b, 1) !== sample) {
      errors.push(`topology input shape [${inShape.join(',')}] does not take one sample of shape [${opts.inputShape.join(',')}]`);
    }
    if (outShape.length !== 2 || outShape[1] !== opts.numClasses)
      errors.push(`topology output shape [${outShape.join(',')}] must be [null,${opts.numClasses}]`);
  }
  if (errors.length) {
    model.dispose();
    throw new ModelSpecError(errors);
  }
  return model;
}
