// `flotilla demo`: the whole story in one process: train, bundle, roll out, snow on the cars, drift, retrain, recover.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../cli/api-client.ts';
import { followRun } from '../cli/commands/train.ts';
import { resolveConfig } from '../config.ts';
import { startServer, type RunningServer } from '../main.ts';
import { FleetSimulator } from '../simulator/index.ts';
import { makeBundle, rollOut, sleep, until, type Api } from './fleet-steps.ts';
import { Narrator } from './narrator.ts';
import { accuracyBetween, type CohortSnapshot, type DemoSummary, type Phase, type RolloutSummary } from './summary.ts';

/** Options of {@link runDemo}; the defaults are the README's story. */
export interface DemoOptions {
  /** Devices, round-robin over car, phone, sensor. Default 50. */
  devices: number;
  /** Training epochs of v1. Default 4. */
  epochs: number;
  /** Seconds of traffic measured in each phase (before, during and after the snow). Default 20. */
  phaseSec: number;
  /** Seconds of snow before retraining: the field samples it yields are what the retrain learns from. Default 60. */
  snowSec: number;
  /** Training epochs of the retrain on the field dataset. Default 8. */
  retrainEpochs: number;
  /** Predictions per device per second. Default 4. */
  rate: number;
  /** Data folder. Default a fresh temporary one. */
  dataDir?: string;
  /** HTTP port (default 0: any free one). */
  port: number;
  /** Progress bars on stderr. */
  progress: boolean;
}

export interface DemoRun {
  summary: DemoSummary;
  server: RunningServer;
  sim: FleetSimulator | null;
}

const MODEL = 'digits';
const TAG = 'demo';

/** Runs the demo; the server and fleet are left running for the caller to close (or keep for exploring). */
export async function runDemo(o: DemoOptions, n = new Narrator()): Promise<DemoRun> {
  const t0 = Date.now();
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'flotilla-demo-'));
  const versions: string[] = [];
  const rollouts: RolloutSummary[] = [];
  const snaps: Partial<Record<'s0' | 's1' | 'snow' | 's2' | 's3' | 's4', CohortSnapshot>> = {};
  let retrain: DemoSummary['retrain'] = null;
  let sim: FleetSimulator | null = null;
  let ok = true;

  const server = await n.step(`starting a server with embedded defaults in ${dataDir}`, async () => {
    const s = await startServer(resolveConfig({ dataDir, port: o.port, mqttPort: 0, mqttsPort: 0, logLevel: 'warn' }));
    n.say(`console and API at ${s.url}, MQTT at ${s.mqttUrl}`);
    return s;
  });
  const token = process.env.FLOTILLA_ADMIN_TOKEN!;
  const client = new ApiClient({ server: server.url, token });
  const api: Api = (method, path, body) => client.request(method, path, body);

  try {
    const v1 = await n.step(`training v1 on MNIST (${o.epochs} epochs)`, () => train(client, api, o, n));
    const b1 = await n.step('exporting to ONNX, quantizing to int8 and bundling v1', async () => {
      const x = await api('POST', `/api/v1/runs/${v1.runId}/export`, { quantize: 'int8', overrideReason: 'demo model' });
      const version = Number(x.version ?? x.modelVersion ?? v1.modelVersion);
      await api('PUT', `/api/v1/models/${MODEL}/aliases/champion`, { version, reason: 'demo: first model' });
      const b = await makeBundle(api, `${MODEL}@${version}`, '1.0.0');
      versions.push(`1.0.0 = ${MODEL}@${version} (test accuracy ${pctOf(v1.accuracy)})`);
      n.say(`bundle ${b.id}, ${b.bytes} bytes`);
      return b;
    });
    await api('PUT', `/api/v1/models/${MODEL}/retraining-policy`, {
      trigger: { onDriftAlert: false }, data: { parent: 'mnist', cohorts: ['car'] }, train: { hyper: { epochs: o.retrainEpochs } }, gate: { margin: 1 }, after: 'wait',
    });
    sim = await n.step(`provisioning and starting ${o.devices} simulated devices (cars, phones, sensors)`, () =>
      FleetSimulator.start({ server: server.url, token, devices: o.devices, tags: [TAG], idPrefix: TAG, rate: o.rate, telemetryWindowSec: 2 }));
    const fleet = sim;
    rollouts.push(await n.step('rolling v1 out: 10% canary, then everyone', () => rollOut(api, fleet, { bundle: b1, version: '1.0.0', tag: TAG, bakeSec: 2, progress: o.progress })));

    await n.step(`streaming inference traffic with feedback labels for ${o.phaseSec} s`, async () => {
      snaps.s0 = fleet.cohorts();
      await sleep(o.phaseSec * 1000);
      snaps.s1 = fleet.cohorts();
      for (const [c, a] of Object.entries(accuracyBetween(snaps.s0, snaps.s1))) n.say(`${c}: field accuracy ${pctOf(a)}`);
    });
    await n.step(`snow on the cars' cameras for ${o.snowSec} s: waiting for the drift alert`, async () => {
      fleet.setTransform('car', 'snow');
      const snowAt = Date.now();
      snaps.snow = fleet.cohorts();
      const alert = await until(() => api('GET', '/api/v1/monitoring/alerts?state=open'), (r) => (r.alerts ?? []).some((a: any) => a.cohort === 'car'), 90_000, 'a drift alert on the cars')
        .then((r) => r.alerts.find((a: any) => a.cohort === 'car'));
      n.say(`ALERT ${alert.id}: ${alert.severity} drift on ${alert.model} in cohort ${alert.cohort} (${alert.features.length} features, since ${alert.since})`);
      // Keep the snow going, so the field samples hold enough snowy labelled inputs to learn from.
      await sleep(Math.max(0, o.snowSec * 1000 - (Date.now() - snowAt)));
      snaps.s2 = fleet.cohorts();
      for (const [c, a] of Object.entries(accuracyBetween(snaps.snow, snaps.s2))) n.say(`${c}: field accuracy ${pctOf(a)}`);
    });
    const job = await n.step(`retraining on the cars' field samples (${o.retrainEpochs} epochs) and gating the challenger`, async () => {
      const j = await api('POST', `/api/v1/models/${MODEL}/retrain`);
      const withRun = await until(() => api('GET', `/api/v1/retraining/${j.id}`), (x) => Boolean(x.runId) || x.status !== 'running', 120_000, 'the retrain run');
      if (withRun.dataset) n.say(`field dataset: ${withRun.dataset.fieldRows} field rows, ${withRun.dataset.holdoutRows} held out for the gate`);
      if (withRun.runId) await followRun(client, withRun.runId, o.progress);
      const done = await until(() => api('GET', `/api/v1/retraining/${j.id}`), (x) => x.status !== 'running', 180_000, 'the gate verdict', 1000);
      retrain = { status: done.status, challenger: done.challenger, failures: done.verdict?.failures ?? (done.error ? [done.error] : []) };
      n.say(`verdict: ${done.status} ${done.challenger ?? ''} ${JSON.stringify(done.verdict?.input ?? {})}`);
      if (done.status !== 'blessed') throw new Error(`challenger ${done.status}: ${retrain.failures.join('; ')}`);
      return done;
    });
    const b2 = await makeBundle(api, job.challenger, '2.0.0');
    versions.push(`2.0.0 = ${job.challenger} (retrained on field samples)`);
    rollouts.push(await n.step('rolling v2 out: 10% canary, then everyone', () => rollOut(api, fleet, { bundle: b2, version: '2.0.0', tag: TAG, bakeSec: 2, progress: o.progress })));
    await n.step(`measuring field accuracy on v2 for ${o.phaseSec} s (the snow goes on)`, async () => {
      snaps.s3 = fleet.cohorts();
      await sleep(o.phaseSec * 1000);
      snaps.s4 = fleet.cohorts();
      for (const [c, a] of Object.entries(accuracyBetween(snaps.s3, snaps.s4))) n.say(`${c}: field accuracy ${pctOf(a)}`);
    });
  } catch {
    ok = false;
  }
  const phase = (a?: CohortSnapshot, b?: CohortSnapshot) => (a && b ? accuracyBetween(a, b) : {});
  const before = phase(snaps.s0, snaps.s1);
  const during = phase(snaps.snow, snaps.s2);
  const after = phase(snaps.s3, snaps.s4);
  const accuracy: Record<string, Record<Phase, number | null>> = {};
  for (const c of ['car', 'phone', 'sensor']) accuracy[c] = { before: before[c] ?? null, during: during[c] ?? null, after: after[c] ?? null };
  const car = accuracy.car!;
  const summary: DemoSummary = {
    ok, versions, accuracy, rollouts, bytesSent: rollouts.reduce((s, r) => s + r.bytesSent, 0), retrain,
    carRecoveryPoints: car.before !== null && car.after !== null ? (car.after - car.before) * 100 : null,
    steps: n.steps, totalMs: Date.now() - t0,
  };
  return { summary, server, sim };
}

async function train(client: ApiClient, api: Api, o: DemoOptions, n: Narrator): Promise<{ runId: string; modelVersion: number; accuracy: number | null }> {
  const run = await api('POST', '/api/v1/runs', { dataset: 'mnist', model: MODEL, hyper: { epochs: o.epochs } });
  const done = await followRun(client, run.id, o.progress);
  if (done.status !== 'succeeded') throw new Error(`run ${run.id} ended ${done.status}: ${JSON.stringify(done.error)}`);
  n.say(`${run.id}: ${MODEL} v${done.modelVersion}, test accuracy ${pctOf(done.metrics?.accuracy)}`);
  return { runId: run.id, modelVersion: done.modelVersion, accuracy: done.metrics?.accuracy ?? null };
}

const pctOf = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '-');
