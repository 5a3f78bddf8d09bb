// A TensorFlow.js model.json + weight shards on disk load back into the same model; broken folders are refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsModelFromFiles } from './load-tfjs-model.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-tfjs-load-'));
let original: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  original = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu' }), tf.layers.dense({ units: 2 })] });
  // Written the way tfjs-node's file:// handler and tensorflowjs_converter lay it out: weights in two shards.
  await original.save(
    tf.io.withSaveHandler(async (a) => {
      const data = new Uint8Array(a.weightData as ArrayBuffer);
      const half = Math.floor(data.length / 8) * 4;
      writeFileSync(path.join(dir, 'group1-shard1of2.bin'), data.subarray(0, half));
      writeFileSync(path.join(dir, 'group1-shard2of2.bin'), data.subarray(half));
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadTfjsModelFromFiles', () => {
  it('loads model.json and its shards into a model that predicts the same', async () => {
    const loaded = await loadTfjsModelFromFiles(path.join(dir, 'model.json'));
    const x = tf.randomNormal([5, 3]);
    expect((loaded.predict(x) as tf.Tensor).arraySync()).toEqual((original.predict(x) as tf.Tensor).arraySync());
  });

  it('refuses missing files, graph models, non-models and weight paths outside the folder', async () => {
    await expect(loadTfjsModelFromFiles(path.join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'EXPORT_INVALID_MODEL' });
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const write = (name: string, v: unknown) => {
      writeFileSync(path.join(dir, name), JSON.stringify(v));
      return path.join(dir, name);
    };
    await expect(loadTfjsModelFromFiles(write('graph.json', { ...json, format: 'graph-model' }))).rejects.toMatchObject({
      message: expect.stringMatching(/graph model/),
    });
    await expect(loadTfjsModelFromFiles(write('other.json', { hello: 1 }))).rejects.toMatchObject({ code: 'EXPORT_INVALID_MODEL' });
    const escape = { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['../../etc/passwd'] }] };
    await expect(loadTfjsModelFromFiles(write('escape.json', escape))).rejects.toMatchObject({
      message: expect.stringMatching(/leaves the model folder/),
    });
    const missing = { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['group1-shard1of2.bin'] }] };
    await expect(loadTfjsModelFromFiles(write('short.json', missing))).rejects.toMatchObject({ code: 'EXPORT_INVALID_MODEL' });
  });
});
