// What a model spec may say: a layer list or a TensorFlow.js topology, and the defaults for MNIST (validation: validate-model-spec.ts).
import { z } from 'zod';
import { intIn, must, numberIn } from './spec-issues.ts';

/** Activation names accepted by layers (all implemented by tfjs-layers). */
export const ACTIVATIONS = [
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softmax',
  'linear',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const activation = z.enum(ACTIVATIONS, must(`must be one of ${ACTIVATIONS.join(', ')}`));
const window2d = z.union([intIn(1, 64), z.tuple([intIn(1, 64), intIn(1, 64)])], must('must be an integer from 1 to 64 or [height, width]'));
const padding = z.enum(['same', 'valid'], must("must be 'same' or 'valid'"));

export const DenseLayerSchema = z.strictObject({
  type: z.literal('dense'),
  units: intIn(1, 65536),
  /** Default linear. */
  activation: activation.optional(),
  /** Default true. */
  useBias: z.boolean(must('must be true or false')).optional(),
});
export const Conv2dLayerSchema = z.strictObject({
  type: z.literal('conv2d'),
  filters: intIn(1, 4096),
  kernelSize: window2d,
  /** Default 1. */
  strides: window2d.optional(),
  /** Default 'valid' (as in Keras). */
  padding: padding.optional(),
  activation: activation.optional(),
});
const poolFields = {
  poolSize: window2d,
  /** Default: poolSize. */
  strides: window2d.optional(),
  /** Default 'valid'. */
  padding: padding.optional(),
};
export const MaxPoolLayerSchema = z.strictObject({ type: z.literal('maxPooling2d'), ...poolFields });
export const AvgPoolLayerSchema = z.strictObject({ type: z.literal('averagePooling2d'), ...poolFields });
export const FlattenLayerSchema = z.strictObject({ type: z.literal('flatten') });
export const DropoutLayerSchema = z.strictObject({ type: z.literal('dropout'), rate: numberIn(0, 0.95) });
export const BatchNormLayerSchema = z.strictObject({
  type: z.literal('batchNormalization'),
  /** Moving-average momentum, default 0.99. */
  momentum: numberIn(0, 1).optional(),
  /** Default 1e-3. */
  epsilon: numberIn(0, 1, true).optional(),
});
export const ActivationLayerSchema = z.strictObject({ type: z.literal('activation'), activation });
export const ReshapeLayerSchema = z.strictObject({
  type: z.literal('reshape'),
  targetShape: z
    .array(intIn(1, 1 << 24), must('must be a list of positive integers'))
    .min(1, must('must have 1 to 3 dimensions'))
    .max(3, must('must have 1 to 3 dimensions')),
});

const LAYER_SCHEMAS = [
  DenseLayerSchema,
  Conv2dLayerSchema,
  MaxPoolLayerSchema,
  AvgPoolLayerSchema,
  FlattenLayerSchema,
  DropoutLayerSchema,
  BatchNormLayerSchema,
  ActivationLayerSchema,
  ReshapeLayerSchema,
] as const;
/** Layer types a layer list may use. */
export const LAYER_TYPES = LAYER_SCHEMAS.map((s) => s.shape.type.value);
export const LayerSpecSchema = z.discriminatedUnion('type', [...LAYER_SCHEMAS], must(`type must be one of ${LAYER_TYPES.join(', ')}`));
export type LayerSpec = z.output<typeof LayerSpecSchema>;

export const LayerListSpecSchema = z.strictObject({
  layers: z.array(LayerSpecSchema, must('must be a list of layers')).max(64, must('must have at most 64 layers')),
});
export const TopologySpecSchema = z.strictObject({
  /** A LayersModel topology (`model.toJSON()`, as an object or its JSON string), or a model.json holding one. */
  topology: z.union(
    [z.string(), z.record(z.string(), z.unknown())],
    must('must be a TensorFlow.js model topology (object or JSON string)'),
  ),
});
export type LayerListSpec = z.output<typeof LayerListSpecSchema>;
export type TopologySpec = z.output<typeof TopologySpecSchema>;
export type ModelSpec = LayerListSpec | TopologySpec;

/** What the model is for: the shape of one sample and the number of classes. */
export interface ModelContext {
  /** Shape of one input sample, e.g. [28, 28, 1]. */
  inputShape: number[];
  numClasses: number;
}

/**
 * MNIST multilayer perceptron: input dropout 0.2, 512 and 256 ReLU units each with dropout 0.4, and
 * the 10-way softmax the builder appends. With DEFAULT_HYPERPARAMS it reaches about 96-97% test
 * accuracy on the 10,000-digit 80/10/10 split (the 0.2 input dropout is worth about +1 point there).
 */
export const DEFAULT_DENSE_SPEC: LayerListSpec = {
  layers: [
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 512, activation: 'relu' },
    { type: 'dropout', rate: 0.4 },
    { type: 'dense', units: 256, activation: 'relu' },
    { type: 'dropout', rate: 0.4 },
  ],
};

/**
 * Small MNIST CNN: 3x3 conv (16) and 2x2 max-pool, 3x3 conv (32) and 2x2 max-pool, dropout 0.25,
 * 128 ReLU units with dropout 0.4, softmax appended. With DEFAULT_HYPERPARAMS on wasm (Flotilla's
 * kernels) it reached 98.4% test accuracy on the 80/10/10 split in about 2 CPU-minutes.
 */
export const DEFAULT_CNN_SPEC: LayerListSpec = mnistCnn(16, 32, 128);

/**
 * Wide MNIST CNN for speed comparisons: the default CNN's shape with 64 and 128 filters and 512 dense
 * units, about 15x its multiply-adds per sample (18 M), enough work per batch for a GPU to beat wasm.
 */
export const WIDE_CNN_SPEC: LayerListSpec = mnistCnn(64, 128, 512);

/** The shape both MNIST CNNs share: conv-pool-conv-pool, dropout, dense, dropout (softmax appended later). */
function mnistCnn(filters1: number, filters2: number, units: number): LayerListSpec {
  return {
    layers: [
      { type: 'conv2d', filters: filters1, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'conv2d', filters: filters2, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units, activation: 'relu' },
      { type: 'dropout', rate: 0.4 },
    ],
  };
}
