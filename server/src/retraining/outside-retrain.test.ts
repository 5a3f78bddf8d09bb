// Retraining by an outside trainer on a real store, blobs, conversion service and onnxruntime, with real child
// processes and a real HTTP server as trainers: a good model is imported with evidence, gated and sent to a
// canary; a trainer that times out (its whole process group killed), exits non-zero, writes nothing, returns
// garbage or a model with another signature fails the job with a clear code and registers nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { floatTensor, makeNode } from '@flotilla/firmware-bundler/onnx';
import { ConversionService } from '../conversion/conversion-service.ts';
import { modelOf } from '../convert/testing/onnx-fixtures.ts';
import { encodeNpy } from '../convert/npy-write.ts';
import { readNpy } from '../convert/npy.ts';
import { createLogger } from '../log/logger.ts';
import type { RetrainingPolicyInput } from './retraining-policy.ts';
import { RetrainingService } from './retraining-service.ts';
import { encodeDataset } from '../datasets/canonical-format.ts';
import { classifier, openWorld, sample, toyData, WEIGHTS } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let scratch: string;
let conversion: ConversionService;

const exportVersion = async () => {
  throw new Error('an outside trainer never exports through tfjs');
};

function service(canary = vi.fn(async () => ({}))) {
  return new RetrainingService({
    store: world.store,
    blobs: world.blobs,
    samples: world.samples,
    conversion: Object.assign(conversion, { exportVersion }),
    runs: {
      start: async () => {
        throw new Error('no native runs here');
      },
      wait: async () => {
        throw new Error('no native runs here');
      },
    },
    retrainingStore: world.retraining,
    log: createLogger('silent'),
    startCanary: canary,
  });
}

const policy = (trainer: NonNullable<RetrainingPolicyInput['trainer']>): RetrainingPolicyInput => ({
  trigger: {},
  data: { parent: 'toy', cohorts: ['snowy'], holdoutFraction: 0.25 },
  trainer,
  after: 'canary',
});
/** A command trainer as a shell one-liner; $1 is a file of this test's scratch folder. */
const sh = (script: string, arg = '', timeoutSec = 60) => ({
  kind: 'command' as const,
  command: ['/bin/sh', '-c', script, 'trainer', ...(arg ? [arg] : [])],
  timeoutSec,
  quantize: 'none' as const,
});

beforeEach(async () => {
  world = await openWorld();
  scratch = mkdtempSync(join(tmpdir(), 'flotilla-outside-'));
  conversion = new ConversionService(world.store, world.blobs);
  // The champion was imported with a reference set of clean rows.
  const ref = Float32Array.from(Array.from({ length: 40 }, (_, i) => (i % 2 ? [0, 1, 0] : [1, 0, 0])).flat());
  await conversion.importOnnx(classifier(WEIGHTS.champion), 'toy', 'champion', 'op', {
    reference: encodeNpy(ref, [40, 3]),
    labels: new TextEncoder().encode('["clear","snowy"]'),
  });
  await world.store.models.moveAlias({ model: 'toy', alias: 'champion', toVersion: 1, actor: 'test', reason: 'setup' });
  await world.samples.insertMany(Array.from({ length: 20 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })));
  writeFileSync(join(scratch, 'good.onnx'), classifier(WEIGHTS.good));
});
afterEach(async () => {
  await world.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function expectNothingRegistered(rt: RetrainingService, jobId: string) {
  expect((await world.store.models.listVersions('toy')).map((v) => v.version)).toEqual([1]);
  expect(await world.store.models.resolve('toy@challenger')).toBeNull();
  // The job's record survives in the audit log with its error.
  expect((await world.store.audit.list({ subject: jobId }))[0]?.detail).toMatchObject({ status: 'failed' });
  expect((await rt.get(jobId)).status).toBe('failed');
}

describe('retraining with an outside trainer', () => {
  it('imports what the trainer made (with evidence and lineage), gates it against the champion and starts a canary', async () => {
    const canary = vi.fn(async () => ({}));
    const rt = service(canary);
    // The trainer keeps a copy of its manifest and rows (the job's folder is removed afterwards), then answers with a good model.
    await rt.setPolicy(
      'toy',
      policy(
        sh(
          'cp "$FLOTILLA_TRAINER_MANIFEST" "$1/manifest.json" && cp "$(dirname "$FLOTILLA_TRAINER_MANIFEST")/train-y.npy" "$1/" && cp "$1/good.onnx" "$FLOTILLA_TRAINER_OUTPUT"',
          scratch,
        ),
      ),
    );
    const job = await rt.retrain('toy', 'op');
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ status: 'blessed', champion: 'toy@1', challenger: 'toy@2', canary: 'toy@2', runId: null });
    expect(job.verdict).toMatchObject({ blessed: true, fieldDelta: 100, testDelta: 0 });
    expect(canary).toHaveBeenCalledWith('toy@2', 'op');
    const manifest = JSON.parse(readFileSync(join(scratch, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      champion: 'toy@1',
      labels: ['clear', 'snowy'],
      featureShape: [3],
      dataset: { digest: job.dataset!.digest, fieldRows: 15, holdoutRows: 5 },
    });
    expect(manifest.signature.inputs[0]).toMatchObject({ name: 'x', dtype: 'float32' });
    expect(Object.keys(manifest.files).sort()).toEqual(['champion', 'holdoutX', 'holdoutY', 'trainCsv', 'trainX', 'trainY']);
    // The parent's train/validation rows (90 of 100) plus the 15 field rows, labels as int64.
    expect(readNpy(readFileSync(join(scratch, 'train-y.npy'))).shape).toEqual([105]);
    const v2 = (await world.store.models.resolve('toy@2'))!;
    expect(v2.tags).toEqual(['trained-outside']);
    expect(v2.metrics).toMatchObject({
      import: { source: 'trainer', importedBy: 'op', lineage: { retrainJob: job.id, champion: 'toy@1', trainer: { kind: 'command' } } },
      labels: ['clear', 'snowy'],
    });
    const ev = await conversion.evidence(v2);
    expect(ev!.reference.features.map((f) => f.name)).toEqual(['f0', 'f1', 'f2']);
    expect(ev!.reference.rows).toBe(105);
  });

  it("loads a field dataset with no field rows, whose content (and digest) is its parent's", async () => {
    // Two rows: the split keeps both for training, so the field version holds exactly the parent's bytes.
    const two = toyData(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      [0, 1],
    );
    const meta = { featureNames: ['a', 'b', 'snow'], featureShape: [3], classes: ['0', '1'] };
    const blob = await world.blobs.put(encodeDataset({ ...meta, rows: 2, dtype: 'float32' }, two));
    await world.store.datasets.put({
      ...meta,
      digest: blob.digest,
      name: 'tiny',
      bytes: blob.bytes,
      rows: 2,
      report: null,
      parents: [],
      source: 'test',
      createdAt: new Date().toISOString(),
    });
    const rt = service();
    await rt.setPolicy('toy', {
      ...policy(sh('cp "$1" "$FLOTILLA_TRAINER_OUTPUT"', join(scratch, 'good.onnx'))),
      data: { parent: 'tiny', cohorts: ['nobody'] },
    });
    const job = await rt.retrain('toy', 'op');
    expect(job.dataset).toMatchObject({ digest: blob.digest, name: 'tiny-field', fieldRows: 0 });
    // The version loads (it used to be NOT_FOUND: two versions share the digest) and the trainer runs; its model
    // is then refused for what it is: two rows are too few for a reference set.
    expect(job.error).toMatch(/^REFERENCE_INVALID: the reference set has 2 rows/);
  });

  it('kills a trainer that runs past its limit, with its whole process group', async () => {
    const rt = service();
    const pidFile = join(scratch, 'pid');
    await rt.setPolicy('toy', policy(sh('sleep 30 & echo $! > "$1"; wait', pidFile, 1)));
    const t0 = Date.now();
    const job = await rt.retrain('toy', 'op');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(job.error).toMatch(/^TRAINER_TIMEOUT: the trainer ran past its limit of 1 s and was killed/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 5000 });
    await expectNothingRegistered(rt, job.id);
  });

  it('fails on a non-zero exit with the tail of stderr', async () => {
    const rt = service();
    await rt.setPolicy('toy', policy(sh('echo "loading rows"; echo "CUDA out of memory" >&2; exit 3')));
    const job = await rt.retrain('toy', 'op');
    expect(job.error).toBe('TRAINER_FAILED: the trainer exited with 3; stderr: CUDA out of memory');
    await expectNothingRegistered(rt, job.id);
  });

  it('fails when the trainer cannot start or writes no model', async () => {
    const rt = service();
    await rt.setPolicy('toy', policy({ kind: 'command', command: [join(scratch, 'no-such-trainer')], quantize: 'none' }));
    const missing = await rt.retrain('toy', 'op');
    expect(missing.error).toMatch(/^TRAINER_FAILED: the trainer command '.*no-such-trainer' could not start/);
    await rt.setPolicy('toy', policy(sh('echo done')));
    const none = await rt.retrain('toy', 'op');
    expect(none.error).toMatch(/^TRAINER_NO_OUTPUT: the trainer exited 0 but wrote no .*model\.onnx/);
    await expectNothingRegistered(rt, none.id);
  });

  it('refuses garbage and a model whose signature differs from the champion', async () => {
    const rt = service();
    await rt.setPolicy('toy', policy(sh('head -c 4096 /dev/urandom > "$FLOTILLA_TRAINER_OUTPUT"')));
    const garbage = await rt.retrain('toy', 'op');
    expect(garbage.error).toMatch(/^TRAINER_OUTPUT_INVALID: the trainer's output is not a model onnxruntime can load/);
    await expectNothingRegistered(rt, garbage.id);
    // Four inputs instead of three, three classes instead of two.
    writeFileSync(
      join(scratch, 'wide.onnx'),
      modelOf(13, [makeNode('MatMul', ['x', 'W'], ['y'])], [floatTensor('W', [4, 3], new Float32Array(12))], [4], [3]),
    );
    await rt.setPolicy('toy', policy(sh('cp "$1" "$FLOTILLA_TRAINER_OUTPUT"', join(scratch, 'wide.onnx'))));
    const wide = await rt.retrain('toy', 'op');
    expect(wide.error).toBe(
      "TRAINER_SIGNATURE_MISMATCH: the trainer's model does not fit the champion's signature (input 0: x: float32[N, 4] instead of x: float32[N, 3]; output 0: y: float32[N, 3] instead of y: float32[N, 2]); devices could not swap it in",
    );
    await expectNothingRegistered(rt, wide.id);
  });

  describe('over HTTP', () => {
    let server: Server;
    let answer: (body: Record<string, any>, res: import('node:http').ServerResponse) => void;
    let url: string;
    beforeEach(async () => {
      server = createServer((req, res) => {
        let text = '';
        req.on('data', (d) => (text += d));
        req.on('end', () => answer(JSON.parse(text), res));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/train`;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('posts the job with its rows inline and imports the answer', async () => {
      let got: Record<string, any> = {};
      answer = (body, res) => {
        got = body;
        res.end(readFileSync(join(scratch, 'good.onnx')));
      };
      const rt = service();
      await rt.setPolicy('toy', policy({ kind: 'http', url, timeoutSec: 30, quantize: 'none' }));
      const job = await rt.retrain('toy', 'op');
      expect(job).toMatchObject({ status: 'blessed', challenger: 'toy@2', error: null });
      expect(got).toMatchObject({ champion: 'toy@1', labels: ['clear', 'snowy'] });
      expect(got.files).toBeUndefined();
      expect(readNpy(Buffer.from(got.data.trainX, 'base64')).shape).toEqual([105, 3]);
      expect(readNpy(Buffer.from(got.data.holdoutY, 'base64')).data).toEqual(Float32Array.from([1, 1, 1, 1, 1]));
    });

    it('fails on an error status, an empty answer and a trainer that does not answer in time', async () => {
      const rt = service();
      await rt.setPolicy('toy', policy({ kind: 'http', url, timeoutSec: 30, quantize: 'none' }));
      answer = (_b, res) => {
        res.statusCode = 500;
        res.end('trainer crashed: out of disk');
      };
      expect((await rt.retrain('toy', 'op')).error).toBe('TRAINER_FAILED: the HTTP trainer answered 500: trainer crashed: out of disk');
      answer = (_b, res) => res.end();
      expect((await rt.retrain('toy', 'op')).error).toMatch(/^TRAINER_OUTPUT_INVALID: the HTTP trainer answered with an empty body/);
      await rt.setPolicy('toy', policy({ kind: 'http', url, timeoutSec: 1, quantize: 'none' }));
      answer = () => undefined;
      const slow = await rt.retrain('toy', 'op');
      expect(slow.error).toMatch(/^TRAINER_TIMEOUT: the HTTP trainer .* did not answer within 1 s/);
      await expectNothingRegistered(rt, slow.id);
      server.closeAllConnections();
    });
  });

  it('refuses to retrain an imported champion without a trainer, saying what to add', async () => {
    const rt = service();
    await rt.setPolicy('toy', { trigger: {}, data: { parent: 'toy' } });
    const job = await rt.retrain('toy', 'op');
    expect(job.error).toMatch(/^NO_CHAMPION: toy@1 was imported, not trained here: give its retraining policy an outside trainer/);
    await expectNothingRegistered(rt, job.id);
  });
});
