// Spec and hyperparameter validation: every error names its place; shapes are checked before building.
import { describe, expect, it } from 'vitest';
import { validateHyperparams, DEFAULT_HYPERPARAMS } from './hyperparams.ts';
import { DEFAULT_CNN_SPEC, DEFAULT_DENSE_SPEC } from './model-spec.ts';
import { validateModelSpec } from './validate-model-spec.ts';

const mnist = { inputShape: [28, 28, 1], numClasses: 10 };
const errorsOf = (spec: unknown, ctx = mnist) => {
  const r = validateModelSpec(spec, ctx);
  return r.ok ? [] : r.errors;
};

describe('validateModelSpec: layer lists', () => {
  it('accepts the defaults and says what the builder adds', () => {
    const dense = validateModelSpec(DEFAULT_DENSE_SPEC, mnist);
    expect(dense.ok).toBe(true);
    if (dense.ok)
      expect(dense.notes).toEqual([
        'flatten inserted before layers[1] (dense on a [28,28,1] input)',
        'output layer dense(10, softmax) appended',
      ]);
    const cnn = validateModelSpec(DEFAULT_CNN_SPEC, mnist);
    expect(cnn.ok && cnn.notes).toEqual(['output layer dense(10, softmax) appended']);
  });

  it('names each bad field with its index', () => {
    expect(
      errorsOf({
        layers: [
          { type: 'dense', units: 64 },
          { type: 'dropout', rate: 1.5 },
          { type: 'dense', units: 0 },
        ],
      }),
    ).toEqual(['layers[1].rate must be a number in [0, 0.95]', 'layers[2].units must be an integer from 1 to 65536']);
    expect(errorsOf({ layers: [{ type: 'conv2d', filters: 8 }] })).toEqual(['layers[0].kernelSize is required']);
    expect(errorsOf({ layers: [{ type: 'dense', units: 8, activation: 'relux' }] })[0]).toMatch(
      /^layers\[0\]\.activation must be one of relu, /,
    );
  });

  it('refuses unknown layer types and misspelt keys', () => {
    expect(errorsOf({ layers: [{ type: 'conv3d', filters: 2 }] })[0]).toMatch(
      /^layers\[0\]\.type type must be one of dense, conv2d, maxPooling2d/,
    );
    expect(errorsOf({ layers: [{ type: 'dense', unit: 8, units: 8 }] })).toEqual(["layers[0] has unknown key 'unit'"]);
    expect(errorsOf({ layer: [] })).toEqual([
      'spec must have either "layers" (a layer list) or "topology" (a TensorFlow.js model topology)',
    ]);
    expect(errorsOf([1, 2])).toEqual(['spec must be an object with either "layers" or "topology"']);
  });

  it('checks shapes through the list', () => {
    expect(
      errorsOf({
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 5, strides: 2 },
          { type: 'conv2d', filters: 4, kernelSize: [3, 13] },
        ],
      }),
    ).toEqual(["layers[1] conv2d window 3x13 is larger than its 12x12 input (padding 'valid'); use padding 'same' or a smaller window"]);
    expect(errorsOf({ layers: [{ type: 'reshape', targetShape: [28, 27] }] })).toEqual([
      'layers[0].targetShape [28,27] holds 756 values but its input [28,28,1] holds 784',
    ]);
    expect(
      errorsOf(
        {
          layers: [
            { type: 'dense', units: 64 },
            { type: 'conv2d', filters: 2, kernelSize: 3 },
          ],
        },
        { inputShape: [784], numClasses: 3 },
      ),
    ).toEqual([
      'layers[1] conv2d needs a [height, width, channels] input but gets [64]; add {"type":"reshape","targetShape":[h,w,c]} before it',
    ]);
    expect(errorsOf({ layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }] }, { inputShape: [780], numClasses: 3 })).toEqual([
      'layers[0] conv2d needs a [height, width, channels] input but gets [780]; add {"type":"reshape","targetShape":[h,w,c]} before it',
    ]);
    expect(
      errorsOf({
        layers: [
          { type: 'dense', units: 60000 },
          { type: 'dense', units: 1000 },
        ],
      }),
    ).toEqual(['model has 107,111,010 parameters; the limit is 20,000,000']);
  });

  it('reshapes flat square inputs for convolutions and uses a final dense of numClasses as the output', () => {
    const r = validateModelSpec(
      { layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 10 }] },
      { inputShape: [784], numClasses: 10 },
    );
    expect(r.ok && r.notes).toEqual(['reshape to [28,28,1] inserted before layers[0] (flat input of 784 values read as a square image)']);
  });
});

describe('validateModelSpec: topologies', () => {
  const seq = (layers: unknown[]) => ({ topology: { class_name: 'Sequential', config: { name: 's', layers } } });
  const dense = (units: number, activation: string, extra = {}) => ({ class_name: 'Dense', config: { units, activation, ...extra } });

  it('accepts a sequential softmax classifier, also as a JSON string or model.json', () => {
    const good = seq([{ class_name: 'Flatten', config: { batch_input_shape: [null, 28, 28, 1] } }, dense(10, 'softmax')]);
    expect(errorsOf(good)).toEqual([]);
    expect(errorsOf({ topology: JSON.stringify(good.topology) })).toEqual([]);
    expect(errorsOf({ topology: { modelTopology: good.topology } })).toEqual([]);
    // A flat [784] input reads the same 784 values of one digit.
    expect(errorsOf(seq([dense(10, 'softmax', { batch_input_shape: [null, 784] })]))).toEqual([]);
  });

  it('says what is wrong with a bad one', () => {
    expect(errorsOf(seq([dense(8, 'relu', { batch_input_shape: [null, 100] })]))).toEqual([
      'topology input shape [100] does not take one sample of shape [28,28,1] (784 values)',
      'topology output Dense has 8 units; the dataset has 10 classes',
      'topology output must apply softmax (the loss expects probabilities)',
    ]);
    expect(errorsOf(seq([{ class_name: 'Conv9D', config: {} }]))).toEqual(["topology.config.layers[0] has unknown layer class 'Conv9D'"]);
    expect(errorsOf({ topology: '{not json' })[0]).toMatch(/^topology is not valid JSON/);
    expect(errorsOf({ topology: { class_name: 'Graph', config: { layers: [] } } })).toEqual([
      `topology.class_name must be 'Sequential' or 'Model', got "Graph"`,
      'topology.config.layers must be a non-empty list',
    ]);
    expect(errorsOf({ topology: 42 })).toEqual(['topology must be a TensorFlow.js model topology (object or JSON string)']);
  });
});

describe('validateHyperparams', () => {
  it('fills defaults', () => {
    expect(validateHyperparams({})).toEqual({ ok: true, hyper: DEFAULT_HYPERPARAMS });
    expect(validateHyperparams({ epochs: 3 })).toMatchObject({ ok: true, hyper: { epochs: 3, optimizer: 'adam' } });
  });
  it('names every bad field', () => {
    expect(validateHyperparams({ epochs: 0, batchSize: 'x', optimizer: 'adagrad', learningRate: 0, seed: 1.5, lr: 1 })).toEqual({
      ok: false,
      errors: [
        'epochs must be an integer from 1 to 1000',
        'batchSize must be an integer from 1 to 65536',
        'learningRate must be a number in (0, 10]',
        'optimizer must be one of adam, sgd, rmsprop',
        'seed must be an integer from 0 to 4294967295',
        "hyperparameters has unknown key 'lr'",
      ],
    });
  });
});
