// retrain() through the real run service (tfjs worker) and conversion service (ONNX export + int8 + parity)
// on the toy world: proves the champion's spec, the field dataset digest and the int8 artifacts fit together.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversionService } from '../conversion/conversion-service.ts';
import { createLogger } from '../log/logger.ts';
import { RunService } from '../runs/run-service.ts';
import { RetrainingService } from './retraining-service.ts';
import { openWorld, sample } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let runs: RunService;
beforeAll(async () => {
  world = await openWorld();
  runs = new RunService({ store: world.store, blobs: world.blobs, log: createLogger('silent') });
});
afterAll(async () => {
  await runs.close();
  await world.close();
});

describe('retrain with real training', () => {
  it('trains the champion spec on the field dataset, exports int8 and reaches a verdict', async () => {
    const spec = {
      layers: [
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
    };
    const champRun = await runs.start({ dataset: 'toy', model: 'toy', spec, hyper: { epochs: 3, batchSize: 16 } }, 'test');
    expect((await runs.wait(champRun.id)).status).toBe('succeeded');
    const conversion = new ConversionService(world.store, world.blobs);
    await conversion.exportVersion('toy@1', { quantize: 'int8', calibrationSamples: 64 }, 'test');
    await world.store.models.moveAlias({ model: 'toy', alias: 'champion', toVersion: 1, actor: 'test', reason: 'setup' });
    await world.samples.insertMany(Array.from({ length: 40 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })));
    const rt = new RetrainingService({
      store: world.store,
      blobs: world.blobs,
      samples: world.samples,
      runs,
      conversion,
      retrainingStore: world.retraining,
      log: createLogger('silent'),
    });
    await rt.setPolicy('toy', { trigger: {}, data: { parent: 'toy', cohorts: ['snowy'] }, train: { hyper: { epochs: 30 } } });
    const job = await rt.retrain('toy', 'test');
    expect(job.error).toBeNull();
    expect(['blessed', 'refused']).toContain(job.status);
    expect(job.challenger).toBe('toy@2');
    expect(job.verdict!.input.challenger.field).not.toBeNull();
    const run = await world.store.runs.get(job.runId!);
    expect(run).toMatchObject({ datasetDigest: job.dataset!.digest, spec, hyper: { epochs: 30, batchSize: 16 } });
  }, 120_000);
});
