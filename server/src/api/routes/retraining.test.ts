// The retraining API on a real server process: policies persist and validate, a retrain answers 202 with a job
// id, and the job (here refused early: nothing to retrain from) is readable with its error; the CLI reads it too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerHandle } from '@flotilla/test/support/server-process';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
}, 60_000);
afterAll(async () => srv?.dispose());

describe('retraining routes', () => {
  it('stores a policy with defaults and refuses an invalid one', async () => {
    const put = await srv.api('PUT', '/api/v1/models/mnist-classifier/retraining-policy', {
      trigger: { onDriftAlert: true },
      data: { parent: 'mnist', cohorts: ['snowy'] },
      after: 'canary',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      trigger: { onDriftAlert: true, minLabelledSamples: 0 },
      data: { holdoutFraction: 0.2 },
      train: { spec: 'champion' },
      after: 'canary',
    });
    expect((await srv.api('GET', '/api/v1/models/mnist-classifier/retraining-policy')).body).toEqual(put.body);
    const bad = await srv.api('PUT', '/api/v1/models/mnist-classifier/retraining-policy', {
      data: { parent: 'mnist', holdoutFraction: 2 },
    });
    expect(bad.status).toBe(400);
    expect((await srv.api('GET', '/api/v1/models/nothing/retraining-policy')).status).toBe(404);
  });

  it('starts a retrain (202) whose job ends failed with NO_CHAMPION, over HTTP and the CLI', async () => {
    const r = await srv.api('POST', '/api/v1/models/mnist-classifier/retrain');
    expect(r.status).toBe(202);
    expect(r.body.id).toMatch(/^rt_/);
    let job = r.body;
    for (let i = 0; i < 50 && job.status === 'running'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      job = (await srv.api('GET', `/api/v1/retraining/${job.id}`)).body;
    }
    expect(job).toMatchObject({ status: 'failed', model: 'mnist-classifier' });
    expect(job.error).toContain('NO_CHAMPION');
    const cli = await runCli(['retrain', 'status', job.id, '--json', '--server', srv.url], { FLOTILLA_TOKEN: srv.token });
    expect(JSON.parse(cli.stdout)).toMatchObject({ id: job.id, status: 'failed' });
  });

  it('lists jobs and samples; operator labels need an operator and a well-formed body', async () => {
    const jobs = await srv.api('GET', '/api/v1/retraining/jobs?model=mnist-classifier&limit=5');
    expect(jobs.status).toBe(200);
    expect(jobs.body.jobs[0]).toMatchObject({ model: 'mnist-classifier', status: 'failed' });
    expect((await srv.api('GET', '/api/v1/retraining/jobs?status=sideways')).status).toBe(400);
    expect((await srv.api('GET', '/api/v1/retraining/samples?source=server')).status).toBe(400);
    expect(await srv.api('GET', '/api/v1/retraining/samples?model=mnist-classifier')).toEqual({ status: 200, body: { samples: [] } });
    const viewer = (await srv.api('POST', '/api/v1/tokens', { name: 'viewer', role: 'viewer' })).body.token as string;
    const labels = { labels: [{ deviceId: 'cam-1', predictionId: 'p1', label: 1 }] };
    expect((await srv.api('POST', '/api/v1/retraining/samples/labels', labels, viewer)).status).toBe(403);
    expect((await srv.api('GET', '/api/v1/retraining/samples', undefined, viewer)).status).toBe(200);
    expect(
      (await srv.api('POST', '/api/v1/retraining/samples/labels', { labels: [{ deviceId: 'cam-1', predictionId: 'p1', label: -1 }] }))
        .status,
    ).toBe(400);
    expect((await srv.api('POST', '/api/v1/retraining/samples/labels', { labels: [] })).status).toBe(400);
    expect(await srv.api('POST', '/api/v1/retraining/samples/labels', labels)).toEqual({ status: 200, body: { matched: 0 } });
  });
});
