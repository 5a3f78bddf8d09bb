// An HTTP trainer downloads its job's files by URL from a real server process (issue 17): the manifest it is
// POSTed names the URLs and a job token; the rows come back as .npy and CSV, the champion as ONNX, and the
// trainer answers with the champion it downloaded, which the job imports and gates. A missing or wrong token,
// an operator token, another job's URL, and the job's token after the trainer finished get 401; the job
// token opens no other route.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../convert/npy.ts';
import { classifier, WEIGHTS } from '@flotilla/test/support/retraining-test-kit';
import { startServerProcess, type ServerHandle } from '@flotilla/test/support/server-process';

let srv: ServerHandle;
let trainer: Server;
let trainerUrl: string;
/** What the trainer saw: the manifest it was POSTed and the statuses of its downloads. */
const seen: {
  manifest?: Record<string, any>;
  statuses: Record<string, number>;
  errors: Record<string, string>;
  shape?: number[];
  csvLines?: string[];
} = { statuses: {}, errors: {} };

const get = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
async function status(key: string, url: string, token?: string) {
  const res = await get(url, token);
  seen.statuses[key] = res.status;
  if (!res.ok) seen.errors[key] = ((await res.json()) as { error: { code: string } }).error.code;
  else await res.arrayBuffer();
}

beforeAll(async () => {
  srv = await startServerProcess();
  // The parent dataset (100 rows of three features) and an imported champion.
  const csv = ['a,b,snow,label', ...Array.from({ length: 100 }, (_, i) => (i % 2 ? `0,1,${i / 100},1` : `1,0,${i / 100},0`))].join('\n');
  expect((await srv.api('POST', '/api/v1/datasets?name=toy&label=label', `${csv}\n`)).status).toBe(201);
  const imported = await fetch(`${srv.url}/api/v1/models/import?name=toy`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/octet-stream' },
    body: classifier(WEIGHTS.champion) as Uint8Array<ArrayBuffer>,
  });
  expect(imported.status).toBe(201);
  expect((await srv.api('PUT', '/api/v1/models/toy/aliases/champion', { version: 1, reason: 'imported' })).status).toBe(200);
  // The trainer: reads what it needs by URL, probes the token's limits, and answers with the champion it downloaded.
  trainer = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on(
      'end',
      () =>
        void (async () => {
          const m = JSON.parse(text) as Record<string, any>;
          seen.manifest = m;
          const token = m.download.token as string;
          const x = await get(m.urls.trainX, token);
          seen.statuses.trainX = x.status;
          seen.shape = readNpy(new Uint8Array(await x.arrayBuffer())).shape as number[];
          const c = await get(m.urls.trainCsv, token);
          seen.statuses.trainCsv = c.status;
          seen.csvLines = (await c.text()).trim().split('\n');
          await status('noToken', m.urls.trainX);
          await status('wrongToken', m.urls.trainX, `${token.slice(0, -2)}xx`);
          await status('operatorToken', m.urls.trainX, srv.token);
          await status('otherJob', m.urls.trainX.replace(`/jobs/${m.job}/`, '/jobs/rt_000000000000/'), token);
          await status('unknownFile', m.urls.trainX.replace('train-x.npy', 'secrets.txt'), token);
          await status('modelsRoute', `${srv.url}/api/v1/models`, token);
          await status('jobRoute', `${srv.url}/api/v1/retraining/${m.job}`, token);
          await status('blobRoute', `${srv.url}/api/v1/blobs/${'0'.repeat(64)}`, token);
          const champion = await get(m.urls.champion, token);
          seen.statuses.champion = champion.status;
          res.end(new Uint8Array(await champion.arrayBuffer()));
        })().catch((e: unknown) => {
          res.statusCode = 500;
          res.end(String(e));
        }),
    );
  });
  await new Promise<void>((r) => trainer.listen(0, '127.0.0.1', r));
  trainerUrl = `http://127.0.0.1:${(trainer.address() as AddressInfo).port}/train`;
}, 90_000);
afterAll(async () => {
  await new Promise<void>((r) => (trainer ? trainer.close(() => r()) : r()));
  await srv?.dispose();
});

describe('trainer downloads by URL with a job token', () => {
  it('lets the HTTP trainer fetch its rows and champion, refuses every other use of the token, and the job goes on', async () => {
    const put = await srv.api('PUT', '/api/v1/models/toy/retraining-policy', {
      trigger: {},
      data: { parent: 'toy' },
      trainer: { kind: 'http', url: trainerUrl, timeoutSec: 60, quantize: 'none' },
    });
    expect(put.status).toBe(200);
    let job = (await srv.api('POST', '/api/v1/models/toy/retrain')).body;
    for (let i = 0; i < 300 && job.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await srv.api('GET', `/api/v1/retraining/${job.id}`)).body;
    }
    // The trainer's model was imported and judged (refused: no field samples to show an improvement on).
    expect(job).toMatchObject({ status: 'refused', champion: 'toy@1', challenger: 'toy@2', error: null });
    expect(job.verdict.failures).toContain('no field holdout to compare on');
    const m = seen.manifest!;
    expect(m.job).toBe(job.id);
    expect(Object.keys(m.urls).sort()).toEqual(['champion', 'holdoutX', 'holdoutY', 'trainCsv', 'trainX', 'trainY']);
    expect(m.urls.trainX).toBe(`${srv.url}/api/v1/retraining/jobs/${job.id}/files/train-x.npy`);
    expect(m.download.token).toMatch(/^ftj_/);
    // It expires with the trainer's timeoutSec (60 s) after the files went up, within the job's life.
    expect(Date.parse(m.download.expiresAt)).toBeGreaterThanOrEqual(Date.parse(job.startedAt) + 60_000);
    expect(Date.parse(m.download.expiresAt)).toBeLessThanOrEqual(Date.parse(job.endedAt) + 60_000);
    // A small job's files also come inline; local paths are for command trainers only.
    expect(Object.keys(m.data).sort()).toEqual(Object.keys(m.urls).sort());
    expect(m.files).toBeUndefined();
    expect(seen.shape).toEqual([90, 3]);
    expect(seen.csvLines![0]).toBe('f0,f1,f2,label');
    expect(seen.csvLines!.slice(1).every((l) => /^(1,0,[\d.e-]+,0|0,1,[\d.e-]+,1)$/.test(l))).toBe(true);
    expect(seen.csvLines).toHaveLength(91);
    expect(seen.statuses).toEqual({
      trainX: 200,
      trainCsv: 200,
      champion: 200,
      unknownFile: 404,
      noToken: 401,
      wrongToken: 401,
      operatorToken: 401,
      otherJob: 401,
      modelsRoute: 401,
      jobRoute: 401,
      blobRoute: 401,
    });
    expect(seen.errors).toMatchObject({
      noToken: 'TRAINER_TOKEN_INVALID',
      wrongToken: 'TRAINER_TOKEN_INVALID',
      operatorToken: 'TRAINER_TOKEN_INVALID',
      otherJob: 'TRAINER_TOKEN_INVALID',
      modelsRoute: 'UNAUTHENTICATED',
      jobRoute: 'UNAUTHENTICATED',
    });
    // The trainer answered with the champion's own bytes: the same model, registered again as v2.
    const v2 = (await srv.api('GET', '/api/v1/models/toy/versions/2')).body;
    const v1 = (await srv.api('GET', '/api/v1/models/toy/versions/1')).body;
    expect(v2.metrics.import.digest).toBe(v1.metrics.import.digest);
    // The trainer is done: its token no longer opens anything.
    const after = await get(m.urls.trainX, m.download.token);
    expect(after.status).toBe(401);
  }, 60_000);
});
