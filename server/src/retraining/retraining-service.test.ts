// retrain() end to end on a real store, blobs and onnxruntime, with training and export stubbed by ports that
// register a chosen model: a challenger that learned the snow is blessed (alias + canary + audit), a worse one is refused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { queuedRun, type Run } from '../store/entities.ts';
import { RetrainingService } from './retraining-service.ts';
import { classifier, openWorld, sample, WEIGHTS } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let next: { weights: number[]; parity: boolean };
const started: unknown[] = [];

function run(id: string, datasetDigest: string, hyper: Record<string, unknown> = {}): Run {
  return queuedRun({
    id,
    model: 'toy',
    sweepId: null,
    datasetDigest,
    datasetName: 'toy',
    splitSeed: 42,
    spec: [{ type: 'dense', units: 2 }],
    hyper,
    environment: {},
    createdBy: 'test',
  });
}

function service(canary = vi.fn(async () => ({})), triggerLease?: () => Promise<boolean>) {
  let n = 0;
  const runs = {
    async start(req: { dataset: string; hyper?: Record<string, unknown> }) {
      started.push(req);
      return world.store.runs.create(run(`run_c${++n}`, req.dataset, req.hyper));
    },
    async wait(id: string) {
      await world.store.models.addVersion({
        model: 'toy',
        runId: id,
        format: 'tfjs',
        artifacts: {},
        signature: null,
        metrics: null,
        quantization: null,
        tags: [],
        description: '',
      });
      await world.store.runs.setStatus(id, 'succeeded');
      return (await world.store.runs.get(id))!;
    },
  };
  const conversion = {
    async exportVersion(ref: string) {
      const [model, version] = ref.split('@') as [string, string];
      const blob = await world.blobs.put(classifier(next.weights));
      const gate = { passed: next.parity };
      await world.store.models.setQuantization(model, Number(version), { gate }, { 'model.int8.onnx': blob.digest });
      return { model, version: Number(version), float: null, int8: { digest: blob.digest }, top1Agreement: 1, gate, report: null } as never;
    },
  };
  return new RetrainingService({
    store: world.store,
    blobs: world.blobs,
    samples: world.samples,
    runs,
    conversion,
    retrainingStore: world.retraining,
    log: createLogger('silent'),
    startCanary: canary,
    triggerLease,
  });
}

beforeEach(async () => {
  world = await openWorld();
  started.length = 0;
  const champion = await world.blobs.put(classifier(WEIGHTS.champion));
  await world.store.runs.create(run('run_champ', world.parent.digest, { epochs: 5 }));
  await world.store.models.addVersion({
    model: 'toy',
    runId: 'run_champ',
    format: 'tfjs',
    artifacts: { 'model.int8.onnx': champion.digest },
    signature: null,
    metrics: null,
    quantization: { gate: { passed: true } },
    tags: [],
    description: 'champion',
  });
  await world.store.models.moveAlias({ model: 'toy', alias: 'champion', toVersion: 1, actor: 'test', reason: 'setup' });
  // Snow on one cohort: 20 labelled snowy samples; the newest 25% are the gate's field slice.
  await world.samples.insertMany(Array.from({ length: 20 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })));
});
afterEach(async () => world.close());

describe('RetrainingService.retrain', () => {
  it('blesses a challenger that learned the snow: alias, canary, audit', async () => {
    const canary = vi.fn(async () => ({}));
    const rt = service(canary);
    await rt.setPolicy('toy', {
      trigger: { onDriftAlert: true },
      data: { parent: 'toy', cohorts: ['snowy'], holdoutFraction: 0.25 },
      train: { hyper: { epochs: 2 } },
      after: 'canary',
    });
    next = { weights: WEIGHTS.good, parity: true };
    const job = await rt.retrain('toy', 'op');
    expect(job.error).toBeNull();
    expect(job.status).toBe('blessed');
    expect(job.champion).toBe('toy@1');
    expect(job.challenger).toBe('toy@2');
    expect(job.dataset).toMatchObject({ parents: [world.parent.digest], fieldRows: 15, holdoutRows: 5 });
    expect(started[0]).toMatchObject({
      dataset: job.dataset!.digest,
      spec: [{ type: 'dense', units: 2 }],
      hyper: { epochs: 2 },
      splitSeed: 42,
    });
    expect(job.verdict).toMatchObject({ blessed: true, fieldDelta: 100, testDelta: 0 });
    expect((await world.store.models.resolve('toy@challenger'))?.version).toBe(2);
    expect(canary).toHaveBeenCalledWith('toy@2', 'op');
    const [audit] = await world.store.audit.list({ subject: job.id });
    expect(audit).toMatchObject({ action: 'model.retrain', detail: { status: 'blessed', verdict: { blessed: true } } });
    expect((await rt.get(job.id)).status).toBe('blessed');
  });

  it('refuses a deliberately worse challenger and one whose int8 failed parity; the alias stays put', async () => {
    const canary = vi.fn(async () => ({}));
    const rt = service(canary);
    await rt.setPolicy('toy', { trigger: {}, data: { parent: 'toy', holdoutFraction: 0.25 }, after: 'canary' });
    next = { weights: WEIGHTS.swapped, parity: true };
    const worse = await rt.retrain('toy', 'op');
    expect(worse.status).toBe('refused');
    expect(worse.verdict!.failures.join()).toContain('test accuracy');
    next = { weights: WEIGHTS.good, parity: false };
    const noParity = await rt.retrain('toy', 'op');
    expect(noParity.verdict!.failures).toEqual(['int8 bundle failed the parity gate']);
    expect(await world.store.models.resolve('toy@challenger')).toBeNull();
    expect(canary).not.toHaveBeenCalled();
  });

  it('starts on a raised drift alert and on enough new labelled samples', async () => {
    const rt = service();
    await rt.setPolicy('toy', { trigger: { onDriftAlert: true, minLabelledSamples: 5 }, data: { parent: 'toy' } });
    next = { weights: WEIGHTS.good, parity: true };
    rt.onAlert({ type: 'updated', alert: { id: 'a0', model: 'toy@1' } as never });
    expect(started).toHaveLength(0);
    rt.onAlert({ type: 'raised', alert: { id: 'a1', model: 'toy@1' } as never });
    let job: { id: string; trigger: string } | undefined;
    for (let i = 0; i < 100 && !job; i++, await new Promise((r) => setTimeout(r, 20))) [job] = await rt.list({ model: 'toy' });
    expect(job!.trigger).toBe('drift:a1');
    await rt.wait(job!.id);
    expect(await rt.checkTriggers()).toEqual([]);
    await world.samples.insertMany(
      Array.from({ length: 5 }, (_, i) => ({ ...sample('cam-2', i), at: new Date(Date.now() + 1000).toISOString() })),
    );
    expect(await rt.checkTriggers()).toHaveLength(1);
  });

  it('fires automatic triggers only while holding the retraining lease', async () => {
    let mine = false;
    const rt = service(undefined, async () => mine);
    await rt.setPolicy('toy', { trigger: { onDriftAlert: true, minLabelledSamples: 5 }, data: { parent: 'toy' } });
    next = { weights: WEIGHTS.good, parity: true };
    await world.samples.insertMany(
      Array.from({ length: 5 }, (_, i) => ({ ...sample('cam-2', i), at: new Date(Date.now() + 1000).toISOString() })),
    );
    rt.onAlert({ type: 'raised', alert: { id: 'a1', model: 'toy@1' } as never });
    await new Promise((r) => setTimeout(r, 20));
    expect(await rt.checkTriggers()).toEqual([]);
    expect(started).toHaveLength(0);
    mine = true;
    const [id] = await rt.checkTriggers();
    expect((await rt.wait(id!)).trigger).toBe('samples');
  });
});
