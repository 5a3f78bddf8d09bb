// Training, evaluation, lineage, cancellation, the registry's aliases, and responsiveness, against a
// real server process on loopback (each run trains in a worker thread of that process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

async function waitRun(id: string, timeoutMs = 240_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const r = await srv.api('GET', `/api/v1/runs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(r.body.status)) return r.body;
    if (Date.now() - t0 > timeoutMs) throw new Error(`run ${id} still ${r.body.status}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

const SMALL = { epochs: 2, batchSize: 128, seed: 7 };

describe('training runs', () => {
  it('refuses an invalid spec before any worker starts, naming what is wrong', async () => {
    const before = (await srv.api('GET', '/api/v1/runs')).body.runs.length;
    const r = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', spec: { layers: [{ type: 'dense', units: -3 }] } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_MODEL_SPEC');
    expect(r.body.error.message).toMatch(/units/);
    const bogus = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', spec: { layers: [{ type: 'lstm-ish' }] } });
    expect(bogus.status).toBe(400);
    const hyper = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', hyper: { epochs: 0 } });
    expect(hyper.body.error.code).toBe('INVALID_HYPERPARAMETERS');
    const ds = await srv.api('POST', '/api/v1/runs', { dataset: 'no-such-data' });
    expect(ds.status).toBe(404);
    expect((await srv.api('GET', '/api/v1/runs')).body.runs.length).toBe(before);
  });

  it('fails a run that asks for webgpu where there is no GPU, saying why, instead of training on wasm', async () => {
    const start = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', hyper: SMALL, backend: 'webgpu' });
    expect(start.status).toBe(202);
    const run = await waitRun(start.body.id);
    expect(run.status).toBe('failed');
    // No Vulkan driver here, or only lavapipe when VK_DRIVER_FILES points at it (refused without FLOTILLA_WEBGPU_ALLOW_SOFTWARE).
    expect(run.error).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/webgpu is unavailable: (Dawn saw no Vulkan device|only the software adapter)/),
    });
    expect(run.modelVersion ?? null).toBeNull();
  });

  it('trains, evaluates, records full lineage, registers a version, and stays responsive meanwhile', async () => {
    const start = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', hyper: SMALL });
    expect(start.status).toBe(202);
    // While the worker trains, the API answers quickly.
    const slowest = [];
    while ((await srv.api('GET', `/api/v1/runs/${start.body.id}`)).body.status !== 'running') await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const h = await fetch(`${srv.url}/healthz`);
      expect(h.status).toBe(200);
      slowest.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Math.max(...slowest)).toBeLessThan(1000);
    const run = await waitRun(start.body.id);
    expect(run.status).toBe('succeeded');
    expect(run.modelVersion).toBe(1);
    expect(run.model).toBe('mnist-classifier');
    // Lineage: data version and split seed, hyperparameters, spec, code, packages, backend, hardware, times, history, artifacts.
    const ds = (await srv.api('GET', '/api/v1/datasets/mnist')).body;
    expect(run.datasetDigest).toBe(ds.digest);
    expect(run.splitSeed).toBe(42);
    expect(run.hyper).toMatchObject(SMALL);
    expect(run.spec).toBeTruthy();
    expect(run.environment.code).toHaveProperty('commit');
    expect(run.environment.code).toHaveProperty('dirty');
    expect(run.environment.packages['@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.environment.backend.name).toMatch(/^(wasm|cpu|tfjs-node|tfjs-node-gpu|webgpu)$/);
    expect(run.environment.hardware.cores).toBeGreaterThan(0);
    expect(run.environment.hardware.cpuModel).toBeTruthy();
    expect(run.environment.split).toEqual({ train: 8000, validation: 1000, test: 1000 });
    expect(Date.parse(run.endedAt)).toBeGreaterThan(Date.parse(run.startedAt));
    expect(run.history.map((h: any) => h.epoch)).toEqual([1, 2]);
    expect(run.artifacts['model.json']).toMatch(/^[0-9a-f]{64}$/);
    expect(run.artifacts['weights.bin']).toMatch(/^[0-9a-f]{64}$/);
    // Evaluation on the test split.
    const m = run.metrics;
    expect(m.accuracy).toBeGreaterThan(0.85);
    expect(m.perClass).toHaveLength(10);
    expect(m.confusion).toHaveLength(10);
    expect(m.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1000);
    expect(m.logLoss).toBeGreaterThan(0);
    expect(m.ece).toBeGreaterThanOrEqual(0);
    expect(m.latency.batch1P50Ms).toBeGreaterThan(0);
    const version = (await srv.api('GET', '/api/v1/models/mnist-classifier/versions/1')).body;
    expect(version.runId).toBe(run.id);
    expect(version.signature.inputs[0].shape).toEqual([-1, 28, 28, 1]);
  });

  it('gives the same metrics for the same seed, data and spec', async () => {
    const a = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', model: 'repro', hyper: { ...SMALL, epochs: 1 } });
    const b = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', model: 'repro', hyper: { ...SMALL, epochs: 1 } });
    const [ra, rb] = [await waitRun(a.body.id), await waitRun(b.body.id)];
    expect(ra.status).toBe('succeeded');
    expect(rb.metrics.accuracy).toBeCloseTo(ra.metrics.accuracy, 6);
    expect(rb.history[0].loss).toBeCloseTo(ra.history[0].loss, 5);
    const cmp = await srv.api('GET', `/api/v1/runs/compare?a=${ra.id}&b=${rb.id}`);
    expect(cmp.status).toBe(200);
    const acc = cmp.body.rows.find((r: any) => r.field === 'metrics.accuracy');
    expect(acc.differs).toBe(false);
  });

  it('cancels a running run: no version is registered', async () => {
    const start = await srv.api('POST', '/api/v1/runs', { dataset: 'mnist', model: 'to-cancel', hyper: { epochs: 50, batchSize: 32 } });
    while ((await srv.api('GET', `/api/v1/runs/${start.body.id}`)).body.status !== 'running') await new Promise((r) => setTimeout(r, 100));
    const c = await srv.api('POST', `/api/v1/runs/${start.body.id}/cancel`);
    expect(c.status).toBe(200);
    const run = await waitRun(start.body.id, 60_000);
    expect(run.status).toBe('cancelled');
    expect((await srv.api('GET', '/api/v1/models/to-cancel')).status).toBe(404);
    expect((await srv.api('POST', `/api/v1/runs/${start.body.id}/cancel`)).body.error.code).toBe('RUN_FINISHED');
  });

  it('moves aliases atomically with an audit record; a viewer cannot', async () => {
    const move = await srv.api('PUT', '/api/v1/models/repro/aliases/champion', { version: 1, reason: 'first good model' });
    expect(move.status).toBe(200);
    expect(move.body.fromVersion).toBeNull();
    const move2 = await srv.api('PUT', '/api/v1/models/repro/aliases/champion', { version: 2, reason: 'same metrics, newer' });
    expect(move2.body.fromVersion).toBe(1);
    const m = (await srv.api('GET', '/api/v1/models/repro')).body;
    expect(m.aliasHistory.map((h: any) => [h.fromVersion, h.toVersion, h.reason])).toEqual([
      [null, 1, 'first good model'],
      [1, 2, 'same metrics, newer'],
    ]);
    expect(m.versions.find((v: any) => v.version === 2).aliases).toEqual(['champion']);
    expect((await srv.api('PUT', '/api/v1/models/repro/aliases/champion', { version: 99, reason: 'x' })).status).toBe(404);
    expect((await srv.api('PUT', '/api/v1/models/repro/aliases/champion', { version: 1 })).body.error.code).toBe('VALIDATION_FAILED');
    const viewer = (await srv.api('POST', '/api/v1/tokens', { name: 'v', role: 'viewer' })).body.token;
    const refused = await srv.api('PUT', '/api/v1/models/repro/aliases/champion', { version: 1, reason: 'sneaky' }, viewer);
    expect(refused.status).toBe(403);
    expect((await srv.api('GET', '/api/v1/models/repro/versions/champion')).body.version).toBe(2);
  });

  it('runs a small sweep and ranks trials on the validation split', async () => {
    const r = await runCli(
      [
        'sweep',
        '--dataset',
        'mnist',
        '--model',
        'swept',
        '--param',
        'learningRate=0.0005,0.002',
        '--epochs',
        '1',
        '--concurrency',
        '1',
        '--server',
        srv.url,
        '--json',
      ],
      { FLOTILLA_TOKEN: srv.token },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.trials).toHaveLength(2);
    expect(out.trials[0].valAccuracy).toBeGreaterThanOrEqual(out.trials[1].valAccuracy);
    const model = (await srv.api('GET', '/api/v1/models/swept')).body;
    expect(model.versions).toHaveLength(1);
    expect(model.versions[0].runId).toBe(out.trials[0].runId);
  });

  it('flotilla train --dataset mnist --json with the defaults reaches 95% test accuracy', async () => {
    const r = await runCli(['train', '--dataset', 'mnist', '--model', 'default-dense', '--server', srv.url, '--json'], {
      FLOTILLA_TOKEN: srv.token,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'succeeded', model: 'default-dense', modelVersion: 1 });
    expect(out.runId).toMatch(/^run_/);
    expect(out.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(out.datasetDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(out.backend).toBeTruthy();
    expect(out.durationMs).toBeGreaterThan(0);
  }, 300_000);
});
