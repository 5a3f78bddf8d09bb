// Building models from specs: shapes, the output rule, seeded initial weights, topologies.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { buildModel } from './build-model.ts';
import { DEFAULT_CNN_SPEC, DEFAULT_DENSE_SPEC } from './model-spec.ts';

const mnist = { inputShape: [28, 28, 1], numClasses: 10 };
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu', strict: true });
});

describe('buildModel', () => {
  it('builds the default dense and CNN specs for MNIST', async () => {
    const dense = await buildModel(DEFAULT_DENSE_SPEC, { ...mnist, seed: 1 });
    expect(dense.layers.map((l) => l.getClassName())).toEqual(['Dropout', 'Flatten', 'Dense', 'Dropout', 'Dense', 'Dropout', 'Dense']);
    expect(dense.outputs[0]!.shape).toEqual([null, 10]);
    expect(dense.countParams()).toBe(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    const cnn = await buildModel(DEFAULT_CNN_SPEC, { ...mnist, seed: 1 });
    expect(cnn.layers.at(-1)!.name).toBe('output');
    expect(cnn.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).toMatchObject({ shape: [2, 10] });
    dense.dispose();
    cnn.dispose();
  });

  it('uses a final dense of numClasses units as the softmax output instead of appending one', async () => {
    const m = await buildModel({ layers: [{ type: 'dense', units: 3 }] }, { inputShape: [5], numClasses: 3, seed: 1 });
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]!.getConfig()['activation']).toBe('softmax');
    const p = tf.tidy(() => (m.predict(tf.ones([1, 5])) as tf.Tensor).sum().arraySync());
    expect(p).toBeCloseTo(1, 5);
  });

  it('gives the same seed the same initial weights, and another seed others', async () => {
    const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => buildModel(DEFAULT_CNN_SPEC, { ...mnist, seed })));
    expect(weightsOf(a!)).toEqual(weightsOf(b!));
    expect(weightsOf(a!)).not.toEqual(weightsOf(c!));
  });

  it('rejects an invalid spec with every error', async () => {
    await expect(buildModel({ layers: [{ type: 'dense', units: -1 }, { type: 'dropout' }] }, { ...mnist, seed: 1 })).rejects.toMatchObject({
      code: 'INVALID_MODEL_SPEC',
      errors: ['layers[0].units must be an integer from 1 to 65536', 'layers[1].rate is required'],
    });
  });
});

describe('buildModel from a topology', () => {
  it('rebuilds a model from its own toJSON(), seeding unseeded initializers', async () => {
    const original = await buildModel(DEFAULT_DENSE_SPEC, { ...mnist, seed: 3 });
    const json = structuredClone(original.toJSON(null, false)) as unknown as Record<string, unknown>;
    // Drop every seed, as a hand-written topology would have none.
    const strip = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(strip);
      else if (n && typeof n === 'object') {
        delete (n as Record<string, unknown>)['seed'];
        Object.values(n).forEach(strip);
      }
    };
    strip(json);
    const a = await buildModel({ topology: json }, { ...mnist, seed: 9 });
    const b = await buildModel({ topology: JSON.stringify(json) }, { ...mnist, seed: 9 });
    expect(a.layers.map((l) => l.getClassName())).toEqual(original.layers.map((l) => l.getClassName()));
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(a.countParams()).toBe(original.countParams());
  });

  it('refuses a functional model whose output does not fit the classes', async () => {
    const input = tf.input({ shape: [28, 28, 1] });
    const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor;
    const json = structuredClone(tf.model({ inputs: input, outputs: out }).toJSON(null, false)) as unknown as Record<string, unknown>;
    await expect(buildModel({ topology: json }, { ...mnist, seed: 1 })).rejects.toMatchObject({
      code: 'INVALID_MODEL_SPEC',
      errors: ['topology output shape [,4] must be [null,10]'],
    });
  });
});
