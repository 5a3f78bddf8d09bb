// evaluateModel on a briefly trained model: metrics agree with the pure function, latency is measured.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { predictProbabilities } from './batches.ts';
import { buildModel } from './build-model.ts';
import type { Dataset } from '../datasets/dataset-types.ts';
import { evaluateModel } from './evaluate.ts';
import { metricsFromProbabilities } from './metrics.ts';
import { trainModel } from './train-loop.ts';
import { mnistSplit, sampleRows } from './training-test-kit.ts';

describe('evaluateModel', () => {
  const data = { train: null as never, test: null as never } as { train: Dataset; test: Dataset };
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm', strict: true });
    const split = await mnistSplit(3);
    data.train = sampleRows(split.train, 400, 3);
    data.test = sampleRows(split.test, 300, 3);
  });

  it('reports the metrics of its predictions, and latency', async () => {
    const model = await buildModel(
      { layers: [{ type: 'dense', units: 32, activation: 'relu' }] },
      { inputShape: [28, 28, 1], numClasses: 10, seed: 2 },
    );
    await trainModel({ model, train: data.train, validation: data.test, hyper: { epochs: 4, batchSize: 32 } });
    const ev = await evaluateModel(model, data.test, { batchSize: 64, latencyRuns: 20 });
    const direct = metricsFromProbabilities(await predictProbabilities(model, data.test, 100), 10, data.test.y);
    model.dispose();

    expect(ev.accuracy).toBe(direct.accuracy);
    expect(ev.confusion).toEqual(direct.confusion);
    expect(ev.logLoss).toBeCloseTo(direct.logLoss, 6);
    expect(ev.accuracy).toBeGreaterThan(0.6);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
    expect(ev.perClass.map((p) => p.support).reduce((a, b) => a + b, 0)).toBe(300);
    expect(ev.ece).toBeGreaterThanOrEqual(0);
    expect(ev.ece).toBeLessThanOrEqual(1);
    expect(ev.latency.batch1P50Ms).toBeGreaterThan(0);
    expect(ev.latency.batch1P95Ms).toBeGreaterThanOrEqual(ev.latency.batch1P50Ms);
    expect(ev.latency.batch64P50Ms).toBeGreaterThan(0);
    expect(ev.latency.samplesPerSec).toBeGreaterThan(0);
  });
});
