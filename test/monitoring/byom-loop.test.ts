// Issue #17 parts 1 and 2 end to end: a model trained and exported in PyTorch (docs/examples/pytorch-trainer.py,
// Debian's python3-torch) is imported with `flotilla models import --reference ...`, bundled with the profile,
// labels and self-tests the server computed from the reference set, and rolled out to simulated agents. Snow on
// the cars raises a drift alert for the cars only; the retraining policy hands the cars' labelled field samples
// to the same PyTorch script as an outside trainer, and its model is imported, quantized, gated against the
// champion and rolled out as a canary. A real server process, real agents, real MQTT and onnxruntime.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundleManifest, type BundleManifest } from '@flotilla/firmware-bundler';
import { ApiClient } from '../../server/src/cli/api-client.ts';
import { makeBundle, rollOut, until, type Api } from '../../server/src/cli/demo/fleet-steps.ts';
import { encodeNpy } from '../../server/src/convert/npy-write.ts';
import { loadMnist } from '../../server/src/datasets/mnist-data.ts';
import { FleetSimulator } from '../../server/src/simulator/index.ts';
import { REPO, runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { torchMissing } from '../support/tools.ts';

const TRAINER = join(REPO, 'docs/examples/pytorch-trainer.py');
const dir = mkdtempSync(join(tmpdir(), 'flotilla-byom-'));
let srv: ServerHandle | null = null;
let sim: FleetSimulator | null = null;
afterAll(async () => {
  await sim?.close();
  await srv?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Every `step`-th MNIST row from `offset`: rows spread over all ten classes (the package orders them by class). */
async function mnistFiles() {
  const d = await loadMnist();
  const per = 784;
  const take = (offset: number, step: number) => {
    const idx = Array.from({ length: Math.floor((d.n - offset) / step) }, (_, i) => offset + i * step);
    const x = new Float32Array(idx.length * per);
    idx.forEach((r, i) => x.set(d.x.subarray(r * per, (r + 1) * per), i * per));
    return {
      x: encodeNpy(x, [idx.length, 28, 28, 1]),
      y: encodeNpy(
        Int32Array.from(idx, (r) => d.y[r]!),
        [idx.length],
      ),
    };
  };
  const train = take(0, 5);
  const ref = take(1, 20);
  const ev = take(2, 25);
  const files = {
    trainX: train.x,
    trainY: train.y,
    ref: ref.x,
    evalX: ev.x,
    evalY: ev.y,
    labels: new TextEncoder().encode(JSON.stringify(Array.from({ length: 10 }, (_, i) => `digit-${i}`))),
    lineage: new TextEncoder().encode(
      JSON.stringify({ exporter: 'torch.onnx', repo: 'git@example.com:ml/digits.git', commit: 'abc123', datasets: ['s3://ml/mnist'] }),
    ),
    wrongShape: encodeNpy(new Float32Array(40 * 784), [40, 784]),
    wrongType: encodeNpy(
      Int32Array.from({ length: 40 }, (_, i) => i),
      [40],
    ),
  };
  const paths = Object.fromEntries(
    Object.entries(files).map(([k]) => [k, join(dir, `${k}.${k === 'labels' || k === 'lineage' ? 'json' : 'npy'}`)]),
  ) as Record<keyof typeof files, string>;
  for (const [k, b] of Object.entries(files)) writeFileSync(paths[k as keyof typeof files], b);
  return paths;
}

describe.skipIf(torchMissing())('bring your own model: PyTorch import, drift, outside retrain, canary', () => {
  it('imports with evidence, alerts on the shifted cohort only, retrains with the outside trainer and canaries the challenger', async () => {
    const f = await mnistFiles();
    // The team's own training, outside Flotilla.
    const trained = spawnSync(
      '/usr/bin/python3',
      [TRAINER, '--x', f.trainX, '--y', f.trainY, '--out', join(dir, 'digits.onnx'), '--epochs', '4'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(trained.status, trained.stderr).toBe(0);

    // Short windows and ticks (verdicts in seconds), and devices asked for field samples (what the outside trainer learns from).
    srv = await startServerProcess({
      env: {
        FLOTILLA_ROLLOUT_TICK_MS: '500',
        FLOTILLA_TELEMETRY_WINDOW_SEC: '2',
        FLOTILLA_TELEMETRY_SAMPLE_RATE: '1',
        FLOTILLA_TELEMETRY_SAMPLE_BYTES: String(64 << 20),
        FLOTILLA_LOG_LEVEL: 'warn',
      },
    });
    const cli = (args: string[]) => runCli([...args, '--server', srv!.url, '--json'], { FLOTILLA_TOKEN: srv!.token });
    const imp = (ref: string) => cli(['models', 'import', join(dir, 'digits.onnx'), '--name', 'digits', '--reference', ref]);

    // Bad reference sets are refused with what was expected, and register nothing.
    const wrongShape = await imp(f.wrongShape);
    expect(wrongShape.code).toBe(6);
    expect(wrongShape.stdout + wrongShape.stderr).toContain(
      "the reference set has shape [40, 784]; the model's input 'input' expects [N, 28, 28, 1]",
    );
    const wrongType = await imp(f.wrongType);
    expect(wrongType.stdout + wrongType.stderr).toContain("the reference set has dtype <i8; the model's input 'input' takes float32");
    expect(wrongType.code).toBe(6);
    expect((await srv.api('GET', '/api/v1/models/digits')).status).toBe(404);

    const ok = await cli([
      'models',
      'import',
      join(dir, 'digits.onnx'),
      '--name',
      'digits',
      '--reference',
      f.ref,
      '--labels',
      f.labels,
      '--eval',
      f.evalX,
      '--eval-labels',
      f.evalY,
      '--lineage',
      f.lineage,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const v1 = JSON.parse(ok.stdout);
    expect(v1).toMatchObject({
      model: 'digits',
      version: 1,
      format: 'onnx',
      metrics: {
        referenceRows: 499,
        labels: expect.arrayContaining(['digit-0']),
        import: { source: 'import', importedBy: expect.any(String), lineage: { commit: 'abc123' } },
      },
    });
    expect(v1.metrics.accuracy).toBeGreaterThan(0.8);
    expect(Object.keys(v1.artifacts).sort()).toEqual(['evidence.json', 'model.onnx']);

    const client = new ApiClient({ server: srv.url, token: srv.token });
    const api: Api = (method, path, body) => client.request(method, path, body);
    await api('PUT', '/api/v1/models/digits/aliases/champion', { version: 1, reason: 'imported from PyTorch' });
    const b1 = await makeBundle(api, 'digits@1', '1.0.0');
    const head = readBundleManifest(new Uint8Array(await (await client.raw('GET', `/api/v1/blobs/${b1.id}`)).arrayBuffer()));
    const manifest = JSON.parse(new TextDecoder().decode(head.manifestBytes)) as BundleManifest;
    expect(manifest.labels).toHaveLength(10);
    expect(manifest.referenceProfile!.features.map((x) => x.name)).toEqual(['mean_brightness', 'contrast', 'edge_density']);
    expect(manifest.selfTests).toHaveLength(4);

    await api('PUT', '/api/v1/models/digits/retraining-policy', {
      trigger: { onDriftAlert: true, samplesAfterAlert: 300 },
      data: { parent: 'mnist', cohorts: ['car'] },
      train: { hyper: { epochs: 4 } },
      trainer: { kind: 'command', command: ['/usr/bin/python3', TRAINER], timeoutSec: 300 },
      gate: { margin: 1 },
      after: 'canary',
    });
    sim = await FleetSimulator.start({
      server: srv.url,
      token: srv.token,
      devices: 9,
      cohorts: ['car', 'phone', 'sensor'],
      idPrefix: 'byom',
      rate: 8,
      telemetryWindowSec: 2,
    });
    await rollOut(api, sim, { bundle: b1, version: '1.0.0', bakeSec: 1, progress: false, server: srv.url, token: srv.token });

    sim.setTransform('car', 'snow');
    const open = () =>
      api<{ alerts: { cohort: string; model: string }[] }>('GET', '/api/v1/monitoring/alerts?state=open').then((r) => r.alerts);
    await until(open, (as) => as.some((a) => a.cohort === 'car'), 90_000, 'a drift alert on the cars');

    const jobs = () =>
      api<{ jobs: { id: string; trigger: string; status: string }[] }>('GET', '/api/v1/models/digits/retraining').then((r) => r.jobs);
    const started = (
      await until(jobs, (js) => js.some((j) => j.trigger.startsWith('drift:')), 120_000, 'the policy to start a retrain')
    ).find((j) => j.trigger.startsWith('drift:'))!;
    // Only the cars drifted on the imported model (checked while its v1 is still everyone's model).
    expect([...new Set((await open()).filter((a) => a.model === 'digits@1.0.0').map((a) => a.cohort))]).toEqual(['car']);
    const job = await until(
      () => api<any>('GET', `/api/v1/retraining/${started.id}`),
      (j) => j.status !== 'running',
      300_000,
      'the retrain verdict',
      1000,
    );
    console.info(
      `byom loop: ${JSON.stringify({ status: job.status, fieldDelta: job.verdict?.fieldDelta, testDelta: job.verdict?.testDelta, fieldRows: job.dataset?.fieldRows, error: job.error })}`,
    );
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ status: 'blessed', champion: 'digits@1', challenger: 'digits@2', canary: 'digits@2', runId: null });
    expect(job.verdict.input.parityPassed).toBe(true);

    const v2 = await api<any>('GET', '/api/v1/models/digits').then((m) => m.versions.find((v: { version: number }) => v.version === 2));
    expect(v2.metrics.import).toMatchObject({
      source: 'trainer',
      lineage: { retrainJob: job.id, champion: 'digits@1', trainer: { kind: 'command' } },
    });
    expect(Object.keys(v2.artifacts).sort()).toEqual(['evidence.json', 'model.int8.onnx', 'model.onnx']);
    // The canary: a bundle of v2 was built and a staged rollout of it reaches the first devices.
    const rollouts = await api<{ rollouts: { bundle: { model: string; version: string } | null; id: string }[] }>(
      'GET',
      '/api/v1/rollouts',
    );
    expect(rollouts.rollouts.some((r) => JSON.stringify(r).includes('digits') && JSON.stringify(r).includes('2.0.0'))).toBe(true);
    await until(
      () => sim!.versions(),
      (v) => (v['2.0.0'] ?? 0) >= 1,
      60_000,
      'a canary device on 2.0.0',
    );
  }, 600_000);
});
