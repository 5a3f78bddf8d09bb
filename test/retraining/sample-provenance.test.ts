// [WIRE-2.12] Feedback provenance against the real server process, its real MQTT ingest and its retraining:
// two hostile devices label a class through the agent's local HTTP feedback route (`local-api`), which the
// retraining policy does not count (`sources: ['app']`); an older agent's labels (no source) count as
// `unknown`; a device claiming `operator` is refused as a whole. The retrain's field dataset holds the honest
// app labels only. The policy itself came from an older server's JSON file, moved into the store at start,
// and a retrain running when the server dies reads `interrupted` after the restart.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { toBase64 } from '@flotilla/firmware-bundler/wire';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { deviceClient, reportedState, topic, until } from '../delivery/fleet-kit.ts';
import { deviceFor } from '../agent/server-kit.ts';
import { classifierModel } from '../agent/harness/test-models.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-provenance-'));
let srv: ServerHandle;
const clients: MqttClient[] = [];
let bundle: { id: string; version: string };
/** Samples each device sent that the server acknowledged. */
const acked = new Map<string, Set<number>>();

const policy = (sources: string[], command: string[]) => ({
  trigger: {},
  data: { parent: 'prov', holdoutFraction: 0.2, minDevicesPerLabel: 2, sources },
  trainer: { kind: 'command', command, timeoutSec: 120, quantize: 'none' },
});

beforeAll(async () => {
  // An older server kept policies in this file; this one moves it into its store at start.
  writeFileSync(join(dataDir, 'retraining-policies.json'), JSON.stringify({ prov: policy(['app'], ['/bin/false']) }));
  srv = await startServerProcess({
    dataDir,
    env: { FLOTILLA_TELEMETRY_SAMPLE_RATE: '1', FLOTILLA_TELEMETRY_SAMPLE_BYTES: String(1 << 20), FLOTILLA_LOG_LEVEL: 'warn' },
  });
  // The parent dataset: 3 features, classes a, b, c.
  const csv = [
    'f0,f1,f2,y',
    ...Array.from({ length: 30 }, (_, i) => `${i % 3 === 0 ? 1 : 0},${i % 3 === 1 ? 1 : 0},${i % 3 === 2 ? 1 : 0},${'abc'[i % 3]}`),
  ].join('\n');
  const ds = await srv.api('POST', '/api/v1/datasets?name=prov&label=y', csv);
  expect(ds.status, JSON.stringify(ds.body)).toBe(201);
  // The champion: an imported ONNX classifier (its signature recorded), bundled by the server.
  const imported = await fetch(`${srv.url}/api/v1/models/import?name=prov`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from(classifierModel({ inputs: 3, classes: 3 })),
  });
  expect(imported.status, await imported.clone().text()).toBe(201);
  expect((await srv.api('PUT', '/api/v1/models/prov/aliases/champion', { version: 1, reason: 'test' })).status).toBe(200);
  const b = await srv.api('POST', '/api/v1/bundles', { model: 'prov@1', labels: ['a', 'b', 'c'] });
  expect(b.status, JSON.stringify(b.body)).toBe(201);
  bundle = { id: b.body.id, version: b.body.version };
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.endAsync().catch(() => undefined);
  await srv?.dispose();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A device running `prov` that sends the given sample items and waits for their acknowledgement. */
async function device(id: string) {
  const d = await deviceFor(srv, bundle.id, id);
  const c = await deviceClient(srv.info.mqttUrl, d);
  clients.push(c);
  acked.set(id, new Set());
  c.on('message', (t, p) => {
    if (t === topic(id, 'ack')) for (const s of JSON.parse(String(p)).seqs as number[]) acked.get(id)!.add(s);
  });
  await c.subscribeAsync(topic(id, 'ack'), { qos: 1 });
  await c.publishAsync(topic(id, 'reported'), JSON.stringify(reportedState({ name: 'prov', version: bundle.version, sequence: 1 })), {
    qos: 1,
    retain: true,
  });
  return {
    async send(seq: number, items: Record<string, unknown>[]) {
      await c.publishAsync(topic(id, 'samples'), JSON.stringify({ v: 1, seq, items }), { qos: 1 });
      await until(
        () => acked.get(id)!.has(seq),
        (ok) => ok,
        15_000,
        `samples ${seq} of ${id} acknowledged`,
      );
    },
    async sendInvalid(seq: number, items: Record<string, unknown>[]) {
      await c.publishAsync(topic(id, 'samples'), JSON.stringify({ v: 1, seq, items }), { qos: 1 });
    },
  };
}

/** `n` labelled sample items of class `label` (one-hot input), with `source` unless it is null. */
const items = (prefix: string, n: number, label: number, source: string | null) =>
  Array.from({ length: n }, (_, i) => ({
    predictionId: `${prefix}-${i}`,
    input: toBase64(new Uint8Array(Float32Array.from([0, 1, 2].map((k) => (k === label ? 1 : 0))).buffer)),
    shape: [3],
    prediction: 0,
    confidence: 0.6,
    label,
    at: new Date(Date.now() - 60_000 + i).toISOString(),
    ...(source ? { source } : {}),
  }));

async function retrain(): Promise<any> {
  const started = await srv.api('POST', '/api/v1/models/prov/retrain');
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return until(
    () => srv.api('GET', `/api/v1/retraining/${started.body.id}`).then((r) => r.body),
    (j) => j.status !== 'running',
    60_000,
    'the retrain to end',
  );
}

it('moved the old policy file into the store at start', async () => {
  expect(existsSync(join(dataDir, 'retraining-policies.json'))).toBe(false);
  expect(existsSync(join(dataDir, 'retraining-policies.json.migrated'))).toBe(true);
  const p = await srv.api('GET', '/api/v1/models/prov/retraining-policy');
  expect(p.status).toBe(200);
  expect(p.body.data).toMatchObject({ parent: 'prov', sources: ['app'], minDevicesPerLabel: 2 });
});

it("counts only the policy's feedback sources: hostile local-api labels never reach the retrain", async () => {
  const [h1, h2, bad1, bad2, old] = await Promise.all(['honest-1', 'honest-2', 'hostile-1', 'hostile-2', 'old-agent'].map(device));
  // Honest devices: labels a and b from the app, each label from both devices (minDevicesPerLabel 2 holds).
  await h1!.send(1, [...items('h1a', 5, 0, 'app'), ...items('h1b', 5, 1, 'app')]);
  await h2!.send(1, [...items('h2a', 5, 0, 'app'), ...items('h2b', 5, 1, 'app')]);
  // Two hostile devices flood label c through their local HTTP feedback route: two devices, so the
  // distinct-device minimum alone would let it through.
  await bad1!.send(1, items('x', 200, 2, 'local-api'));
  await bad2!.send(1, items('y', 200, 2, 'local-api'));
  // One claims its labels came from an operator: the whole message is invalid and stored nowhere.
  await bad1!.sendInvalid(2, items('z', 5, 2, 'operator'));
  // An agent older than the source field: stored as `unknown`.
  await old!.send(1, items('o', 4, 2, null));

  const bySource = async () => {
    const r = await srv.api('GET', '/api/v1/retraining/samples?model=prov&limit=1000');
    expect(r.status).toBe(200);
    const counts: Record<string, number> = {};
    for (const s of r.body.samples) counts[`${s.deviceId}:${s.source}`] = (counts[`${s.deviceId}:${s.source}`] ?? 0) + 1;
    return counts;
  };
  expect(await bySource()).toEqual({
    'honest-1:app': 10,
    'honest-2:app': 10,
    'hostile-1:local-api': 200,
    'hostile-2:local-api': 200,
    'old-agent:unknown': 4,
  });
  const hostile = await srv.api('GET', '/api/v1/retraining/samples?source=local-api&device=hostile-2&limit=1');
  expect(hostile.body.samples).toEqual([
    expect.objectContaining({ deviceId: 'hostile-2', model: 'prov', label: 2, source: 'local-api', inputBytes: 12 }),
  ]);
  expect(acked.get('hostile-1')!.has(2)).toBe(false);
  const cli = await runCli(['retrain', 'samples', '--model', 'prov', '--source', 'unknown', '--server', srv.url, '--json'], {
    FLOTILLA_TOKEN: srv.token,
  });
  expect(cli.code, cli.stderr).toBe(0);
  expect(JSON.parse(cli.stdout).map((x: { deviceId: string; source: string }) => `${x.deviceId}:${x.source}`)).toEqual(
    Array(4).fill('old-agent:unknown'),
  );

  // The trainer fails on purpose (/bin/false): what matters is the field dataset the job built first.
  const job = await retrain();
  expect(job.error).toContain('TRAINER_FAILED');
  expect(job.dataset.fieldRows + job.dataset.holdoutRows).toBe(20);
  const ds = await srv.api('GET', `/api/v1/datasets/${job.dataset.digest}`);
  expect(ds.body.source).toContain('labels from app');

  // An operator's labels count where the policy lists `operator`: two operator labels on different devices.
  const labelled = await srv.api('POST', '/api/v1/retraining/samples/labels', {
    labels: [
      { deviceId: 'hostile-1', predictionId: 'x-0', label: 2 },
      { deviceId: 'old-agent', predictionId: 'o-0', label: 2 },
    ],
  });
  expect(labelled).toMatchObject({ status: 200, body: { matched: 2 } });
  expect((await srv.api('PUT', '/api/v1/models/prov/retraining-policy', policy(['app', 'operator'], ['/bin/false']))).status).toBe(200);
  const again = await retrain();
  expect(again.dataset.fieldRows + again.dataset.holdoutRows).toBe(22);
});

it('a retrain running when the server dies reads interrupted, with the reason, after the restart', async () => {
  // A trainer that takes its time: the job is running when the server is killed.
  expect((await srv.api('PUT', '/api/v1/models/prov/retraining-policy', policy(['app'], ['/bin/sleep', '20']))).status).toBe(200);
  const started = await srv.api('POST', '/api/v1/models/prov/retrain');
  expect(started.body.status).toBe('running');
  const history = (await srv.api('GET', '/api/v1/retraining/jobs?model=prov')).body.jobs;
  expect(history.map((j: { status: string }) => j.status)).toEqual(['running', 'failed', 'failed']);
  for (const c of clients.splice(0)) await c.endAsync().catch(() => undefined);
  await srv.stop('SIGKILL');
  srv = await startServerProcess({ dataDir, removeOnDispose: false, env: { FLOTILLA_LOG_LEVEL: 'warn' } });
  const jobs = (await srv.api('GET', '/api/v1/retraining/jobs?model=prov')).body.jobs;
  expect(jobs.map((j: { id: string; status: string }) => [j.id, j.status])).toEqual([
    [started.body.id, 'interrupted'],
    [history[1].id, 'failed'],
    [history[2].id, 'failed'],
  ]);
  expect(jobs[0].error).toMatch(/^interrupted: the server process running it stopped/);
  expect((await srv.api('GET', '/api/v1/retraining/jobs?status=interrupted')).body.jobs).toHaveLength(1);
  const cli = await runCli(['retrain', 'jobs', '--status', 'interrupted', '--server', srv.url, '--json'], { FLOTILLA_TOKEN: srv.token });
  expect(cli.code, cli.stderr).toBe(0);
  expect(JSON.parse(cli.stdout)).toEqual([expect.objectContaining({ id: started.body.id, status: 'interrupted' })]);
  // The model may retrain again.
  expect((await srv.api('POST', '/api/v1/models/prov/retrain')).body.id).not.toBe(started.body.id);
}, 90_000);
