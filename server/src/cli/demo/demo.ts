// `flotilla demo`: the whole story in one process: train, bundle, roll out, snow on the cars, drift, a retrain the
// retraining policy starts by itself, the gate (which also refuses a worse challenger), v2 rollout, recovery.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, ConversionOutcome, Run } from '../../api/contract.ts';
import { ApiClient } from '../api-client.ts';
import { followRun } from '../commands/train.ts';
import { resolveConfig } from '../../config.ts';
import { startServer, type RunningServer } from '../../main.ts';
import { FleetSimulator } from '../../simulator/index.ts';
import { DEFAULT_CNN_SPEC } from '../../training/model-spec.ts';
import { makeBundle, rollOut, sleep, until, type Api } from './fleet-steps.ts';
import { Narrator } from './narrator.ts';
import { followRetrain, loopPolicy, policyRetrain, retrainSummary, tryWorseChallenger } from './retrain-steps.ts';
import { between, type AlertSummary, type CohortSnapshot, type DemoSummary, type Phase, type RolloutSummary } from './summary.ts';

/** Options of {@link runDemo}; the defaults are the README's story. */
export interface DemoOptions {
  /** Devices, round-robin over car, phone, sensor. Default 50. */
  devices: number;
  /** Training epochs of v1 (the small MNIST CNN). Default 3. */
  epochs: number;
  /** Seconds of traffic measured before the snow and after the retrained model is out. Default 20. */
  phaseSec: number;
  /** Labelled car samples the retraining policy waits for after the drift alert before it retrains. Default 2500. */
  fieldSamples: number;
  /** Training epochs of the retrain on the field dataset. Default 5. */
  retrainEpochs: number;
  /** Predictions per device per second. Default 4. */
  rate: number;
  /** Data folder. Default a fresh temporary one. */
  dataDir?: string;
  /** HTTP port (default 0: any free one). */
  port: number;
  /** MQTT port of the embedded broker (default 0: any free one). */
  mqttPort?: number;
  /** Progress bars on stderr. */
  progress: boolean;
}

export interface DemoRun {
  summary: DemoSummary;
  /** The data folder, and whether the demo made it (a temporary one, for the caller to remove). */
  dataDir: string;
  madeDataDir: boolean;
  server: RunningServer;
  sim: FleetSimulator | null;
}

const MODEL = 'digits';
const SNOWY = 'car';
const COHORTS = ['car', 'phone', 'sensor'];

/** Runs the demo; the server and fleet are left running for the caller to close (or keep for exploring). */
export async function runDemo(o: DemoOptions, n = new Narrator()): Promise<DemoRun> {
  const t0 = Date.now();
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'flotilla-demo-'));
  const versions: string[] = [];
  const rollouts: RolloutSummary[] = [];
  const snaps: Partial<Record<'s0' | 's1' | 'snow' | 's2' | 's3' | 's4', CohortSnapshot>> = {};
  const s: Pick<DemoSummary, 'driftCohorts' | 'retrain' | 'gate'> = {
    driftCohorts: [],
    retrain: null,
    gate: { refusedWorse: false, worse: null },
  };
  let sim: FleetSimulator | null = null;
  let ok = true;
  /** The registry version v1 was trained as (`digits@N`): the champion until v2 has been judged and rolled out. */
  let championV1 = '';

  const server = await n.step(`starting a server with embedded defaults in ${dataDir}`, async () => {
    const srv = await startServer(resolveConfig({ dataDir, port: o.port, mqttPort: o.mqttPort ?? 0, mqttsPort: 0, logLevel: 'warn' }));
    // At the start, so the story can be followed in the console while it runs.
    n.say(`console: ${srv.url}/  (admin token: ${process.env.FLOTILLA_ADMIN_TOKEN})`);
    n.say(`API at ${srv.url}/api/v1, MQTT at ${srv.mqttUrl}`);
    return srv;
  });
  const token = process.env.FLOTILLA_ADMIN_TOKEN!;
  const client = new ApiClient({ server: server.url, token });
  const api: Api = (method, path, body) => client.request(method, path, body);
  const rollout = (b: { id: string; bytes: number }, version: string) =>
    rollOut(api, sim!, { bundle: b, version, bakeSec: 2, progress: o.progress, server: server.url, token });
  const measure = async (from: keyof typeof snaps, to: keyof typeof snaps, ms: number) => {
    snaps[from] = sim!.cohorts();
    await sleep(ms);
    snaps[to] = sim!.cohorts();
    sayAccuracy(n, snaps[from]!, snaps[to]!);
  };
  const policy = loopPolicy({ fieldSamples: o.fieldSamples, retrainEpochs: o.retrainEpochs, cohort: SNOWY });

  try {
    const v1 = await n.step(`training v1, a small CNN, on MNIST (${o.epochs} epochs)`, () => train(client, api, o, n));
    const b1 = await n.step('exporting to ONNX, quantizing to int8 and bundling v1', async () => {
      const x = await api<ConversionOutcome>('POST', `/api/v1/runs/${v1.runId}/export`, { quantize: 'int8', overrideReason: 'demo model' });
      const version = x.version;
      championV1 = `${MODEL}@${version}`;
      await api('PUT', `/api/v1/models/${MODEL}/aliases/champion`, { version, reason: 'demo: first model' });
      const b = await makeBundle(api, `${MODEL}@${version}`, '1.0.0');
      versions.push(`1.0.0 = ${MODEL}@${version} (test accuracy ${pctOf(v1.accuracy)})`);
      n.say(`bundle ${b.id}, ${b.bytes} bytes`);
      return b;
    });
    await n.step("setting the retraining policy: a drift alert retrains on the cars' labelled field samples", async () => {
      await api('PUT', `/api/v1/models/${MODEL}/retraining-policy`, policy);
      n.say(
        `trigger: on a drift alert, once ${o.fieldSamples} labelled ${SNOWY} samples arrived; gate: +1 point on the field holdout; after: wait for the operator`,
      );
    });
    sim = await n.step(`provisioning and starting ${o.devices} simulated devices (cars, phones, sensors)`, () =>
      FleetSimulator.start({
        server: server.url,
        token,
        devices: o.devices,
        cohorts: COHORTS,
        idPrefix: 'demo',
        rate: o.rate,
        telemetryWindowSec: 2,
      }),
    );
    const fleet = sim;
    rollouts.push(await n.step('rolling v1 out: 10% canary, then everyone', () => rollout(b1, '1.0.0')));
    await n.step(`streaming inference traffic with feedback labels for ${o.phaseSec} s`, () => measure('s0', 's1', o.phaseSec * 1000));

    const job = await n.step(`snow on the cars' cameras: waiting for the drift alert, then for the retraining policy`, async () => {
      fleet.setTransform(SNOWY, 'snow');
      snaps.snow = fleet.cohorts();
      const open = () => api<{ alerts?: Alert[] }>('GET', '/api/v1/monitoring/alerts?state=open').then((r) => r.alerts ?? []);
      const alert = (await until(open, (as) => as.some((a) => a.cohort === SNOWY), 90_000, `a drift alert on the ${SNOWY}s`)).find(
        (a) => a.cohort === SNOWY,
      )!;
      n.say(
        `ALERT ${alert.id}: ${alert.severity} drift on ${alert.model} in cohort ${alert.cohort} (${alert.features.map((f) => f.name).join(', ')}; since ${alert.since})`,
      );
      const secs = o.fieldSamples / Math.max(1, o.rate * Math.ceil(o.devices / COHORTS.length));
      const j = await policyRetrain(api, MODEL, Math.max(120_000, secs * 3000));
      snaps.s2 = fleet.cohorts();
      s.driftCohorts = [...new Set((await open()).filter((a) => a.model === alert.model).map((a) => a.cohort as string))].sort();
      sayAccuracy(n, snaps.snow, snaps.s2);
      n.say(`open drift alerts on ${alert.model}: ${s.driftCohorts.join(', ') || 'none'}`);
      n.say(
        `the retraining policy started retrain ${j.id} by itself (trigger ${j.trigger}) after ${o.fieldSamples} labelled ${SNOWY} samples; the demo did not call retrain`,
      );
      return j;
    });
    const done = await n.step(`retraining on the cars' field samples (${o.retrainEpochs} epochs) and gating the challenger`, async () => {
      const d = await followRetrain(client, api, job.id, o.progress, (l) => n.say(l));
      s.retrain = retrainSummary(d);
      n.say(
        `verdict: ${d.status} ${d.challenger ?? ''}: field ${fmtDelta(d.verdict?.fieldDelta)}, test ${fmtDelta(d.verdict?.testDelta)} vs the champion`,
      );
      if (d.status !== 'blessed' || !d.challenger) throw new Error(`challenger ${d.status}: ${s.retrain.failures.join('; ')}`);
      return { ...d, challenger: d.challenger };
    });
    // A hasty challenger goes to the gate meanwhile (its verdict is awaited after the measurements), which saves a
    // training run's worth of waiting. The champion it is judged against is v1: v2 becomes the champion only after
    // that verdict, so the comparison is the one the narration names.
    const worse = tryWorseChallenger(client, api, MODEL, {
      cohort: SNOWY,
      progress: false,
      say: (l) => n.say(`worse challenger: ${l}`),
    }).then(
      (w) => ({ w, e: null }),
      (e: unknown) => ({ w: null, e: e as Error }),
    );
    // The policy says `after: wait`: the blessed challenger waits for an operator, and the demo is that operator.
    rollouts.push(
      await n.step(`operator approves: bundling ${done.challenger} as v2, 10% canary, then everyone`, async () => {
        const b2 = await makeBundle(api, done.challenger, '2.0.0');
        versions.push(`2.0.0 = ${done.challenger} (retrained on field samples, blessed by the gate)`);
        n.say(`v2's reference profiles the ${SNOWY}s on their snowy field rows and the other cohorts on the clean rows they always sent`);
        return rollout(b2, '2.0.0');
      }),
    );
    await n.step(`measuring field accuracy on v2 for ${o.phaseSec} s (the snow goes on)`, () => measure('s3', 's4', o.phaseSec * 1000));
    await n.step(
      `the gate's verdict on a deliberately worse challenger (retrained for 1 epoch at learning rate 1e-4) against the champion ${championV1}`,
      async () => {
        const { w, e } = await worse;
        if (!w) throw e;
        s.gate = { refusedWorse: w.status === 'refused' && (w.verdict?.failures?.length ?? 0) > 0, worse: retrainSummary(w) };
        n.say(`${w.id}: ${w.status} ${w.challenger ?? ''} vs champion ${w.champion}: ${s.gate.worse!.failures.join('; ') || 'no reasons'}`);
        if (w.champion !== championV1)
          throw new Error(`the worse challenger was judged against ${w.champion}, not the champion ${championV1}`);
        if (!s.gate.refusedWorse) throw new Error(`the gate did not refuse a deliberately worse challenger (${w.status})`);
      },
    );
    await n.step(`${done.challenger} becomes the champion; the cars' drift alert on v1 is resolved, its cause fixed`, async () => {
      await api('PUT', `/api/v1/models/${MODEL}/aliases/champion`, {
        version: Number(String(done.challenger).split('@')[1]),
        reason: `demo: ${done.id} blessed and rolled out`,
      });
      // The v1 alert was real, and v2 answered it: no device runs v1 any more, so no window will ever resolve it.
      const open = await api<{ alerts?: Alert[] }>('GET', '/api/v1/monitoring/alerts?state=open').then((r) => r.alerts ?? []);
      for (const a of open.filter((x) => x.model.endsWith('@1.0.0'))) {
        await api('POST', `/api/v1/monitoring/alerts/${encodeURIComponent(a.id)}/resolve`, {
          reason: `v2 (${done.challenger}) retrained on the field data is rolled out`,
        });
        n.say(`resolved ${a.id} (${a.cohort} on ${a.model})`);
      }
      const left = await api<{ alerts?: Alert[] }>('GET', '/api/v1/monitoring/alerts?state=open').then((r) => r.alerts ?? []);
      n.say(`open drift alerts now: ${left.length ? left.map((a) => `${a.cohort} on ${a.model} (${a.severity})`).join('; ') : 'none'}`);
    });
    await api('PUT', `/api/v1/models/${MODEL}/retraining-policy`, policy);
    n.say("the loop's retraining policy is back in place: the next drift alert retrains again");
  } catch {
    ok = false;
  }
  const phase = (a?: CohortSnapshot, b?: CohortSnapshot) => (a && b ? between(a, b) : {});
  const phases: Record<Phase, ReturnType<typeof phase>> = {
    before: phase(snaps.s0, snaps.s1),
    during: phase(snaps.snow, snaps.s2),
    after: phase(snaps.s3, snaps.s4),
  };
  const accuracy: DemoSummary['accuracy'] = {};
  const labelled: DemoSummary['labelled'] = {};
  for (const c of COHORTS) {
    accuracy[c] = {
      before: phases.before[c]?.accuracy ?? null,
      during: phases.during[c]?.accuracy ?? null,
      after: phases.after[c]?.accuracy ?? null,
    };
    labelled[c] = {
      before: phases.before[c]?.labelled ?? 0,
      during: phases.during[c]?.labelled ?? 0,
      after: phases.after[c]?.labelled ?? 0,
    };
  }
  const car = accuracy[SNOWY]!;
  const summary: DemoSummary = {
    ok,
    error: n.steps.find((x) => !x.ok)?.error ?? null,
    versions,
    accuracy,
    labelled,
    ...s,
    alerts: await alertList(api),
    rollouts,
    bytesSent: rollouts.reduce((sum, r) => sum + r.bytesSent, 0),
    carRecoveryPoints: car.before !== null && car.after !== null ? (car.after - car.before) * 100 : null,
    steps: n.steps,
    totalMs: Date.now() - t0,
  };
  return { summary, server, sim, dataDir, madeDataDir: !o.dataDir };
}

async function train(
  client: ApiClient,
  api: Api,
  o: DemoOptions,
  n: Narrator,
): Promise<{ runId: string; modelVersion: number; accuracy: number | null }> {
  const run = await api<Run>('POST', '/api/v1/runs', {
    dataset: 'mnist',
    model: MODEL,
    spec: DEFAULT_CNN_SPEC,
    hyper: { epochs: o.epochs },
  });
  const done = await followRun(client, run.id, o.progress);
  if (done.status !== 'succeeded') throw new Error(`run ${run.id} ended ${done.status}: ${JSON.stringify(done.error)}`);
  if (done.modelVersion === null) throw new Error(`run ${run.id} succeeded but registered no model version`);
  const accuracy = typeof done.metrics?.accuracy === 'number' ? done.metrics.accuracy : null;
  n.say(`${run.id}: ${MODEL} v${done.modelVersion}, test accuracy ${pctOf(accuracy)}`);
  return { runId: run.id, modelVersion: done.modelVersion, accuracy };
}

/** Every alert so far, or none when the server cannot say (the summary is written even after a failure). */
async function alertList(api: Api): Promise<AlertSummary[]> {
  try {
    const r = await api<{ alerts?: Alert[] }>('GET', '/api/v1/monitoring/alerts');
    return (r.alerts ?? []).map((a) => ({ id: a.id, cohort: a.cohort, model: a.model, severity: a.severity, state: a.state }));
  } catch {
    return [];
  }
}

function sayAccuracy(n: Narrator, from: CohortSnapshot, to: CohortSnapshot): void {
  for (const [c, x] of Object.entries(between(from, to)))
    n.say(`${c}: field accuracy ${pctOf(x.accuracy)} over ${x.labelled} labelled predictions`);
}

const pctOf = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '-');
const fmtDelta = (x: number | null | undefined) => (typeof x === 'number' ? `${x >= 0 ? '+' : ''}${x} points` : '-');
