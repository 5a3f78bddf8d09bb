// Staged rollouts end to end: a real server process and a simulated fleet of real agents (issue 7's must-shows).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetSimulator } from '../../server/src/simulator/index.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { until } from '../delivery/fleet-kit.ts';
import { E2E_ENV as ENV, E2E_GATES as GATES, rolloutKit, trainDigits } from './rollout-kit.ts';

const DEVICES = 15;
const TAG = 'e2e';
const stages = (percents: number[], bakeSec = 2) => percents.map((percent) => ({ percent, bakeSec, gates: GATES }));

let srv: ServerHandle;
let sim: FleetSimulator;
let model: string;
let good: string;

const { env, status, rolloutDevices, waitState, bundle, create } = rolloutKit(() => srv, { tags: [TAG] });
const allOn = (version: string, ms = 30_000) =>
  until(
    () => sim.versions(),
    (v) => v[version] === DEVICES,
    ms,
    `every device on ${version}`,
  );

beforeAll(async () => {
  srv = await startServerProcess({ env: ENV });
  model = await trainDigits(srv);
  good = await bundle({ model, version: '1.0.0' });
  sim = await FleetSimulator.start({
    server: srv.url,
    token: srv.token,
    devices: DEVICES,
    tags: [TAG],
    rate: 3,
    telemetryWindowSec: 2,
    transforms: { phone: 'snow' },
  });
}, 180_000);

afterAll(async () => {
  await sim?.close();
  await srv?.stop();
  if (srv) rmSync(srv.dataDir, { recursive: true, force: true });
});

describe('rollouts on a simulated fleet', () => {
  it('advances 10% → 50% → 100% on healthy metrics and ends with every device on the bundle', async () => {
    const id = await create({ bundle: good, stages: stages([10, 50, 100]) });
    const s = await waitState(id, ['completed', 'paused', 'aborted']);
    expect(s.state, JSON.stringify(s.stages.map((x: any) => x.verdict))).toBe('completed');
    expect(s.stages.map((x: any) => x.state)).toEqual(['passed', 'passed', 'passed']);
    expect(s.counts).toEqual({ updated: DEVICES });
    await allOn('1.0.0');
    const acc = sim.cohorts();
    expect(acc.car!.accuracy).toBeGreaterThan(0.5);
  }, 90_000);

  it('stops a bundle that fails its self-test at the canary: nobody else is told, the canary is back on the old model', async () => {
    // The same model with self-test vectors no output can meet: every device that tries it rolls back.
    const v = (await srv.api('GET', `/api/v1/models/digits/versions/${model.split('@')[1]}`)).body;
    const sig = v.quantization?.signature ?? v.signature;
    const input = sig?.inputs?.[0]?.name ?? 'input';
    const output = sig?.outputs?.[0]?.name ?? 'probabilities';
    const broken = await bundle({
      model,
      version: '1.0.1',
      selfTests: [
        {
          name: 'impossible',
          inputs: { [input]: Array(784).fill(0.5) },
          expected: { [output]: Array(10).fill(7) },
          tolerance: { abs: 0.001, rel: 0.001 },
        },
      ],
    });
    const id = await create({ bundle: broken, stages: stages([10, 50, 100], 30), policy: { onGateFail: 'abort' } });
    const s = await waitState(id, ['aborted', 'rolled_back', 'completed']);
    expect(s.state).not.toBe('completed');
    expect(s.current).toBe(0);
    expect(s.stages[0].verdict.failures.map((f: any) => f.gate)).toContain('maxFailureRate');
    const rows = await rolloutDevices(id);
    const canary = rows.filter((r) => r.stage === 0);
    const rest = rows.filter((r) => r.stage !== 0);
    expect(canary.length).toBeGreaterThan(0);
    expect(rest.length).toBe(DEVICES - canary.length);
    expect(
      rest.every((r) => r.notifiedAt === null && ['planned', 'excluded'].includes(r.state)),
      JSON.stringify(rest),
    ).toBe(true);
    for (const r of rest) expect((await srv.api('GET', `/api/v1/devices/${r.deviceId}`)).body.desired?.bundle?.id).toBe(good);
    await until(
      () => sim.state().filter((d) => canary.some((c) => c.deviceId === d.id)),
      (ds) => ds.every((d) => d.version === '1.0.0' && d.state === 'idle'),
      20_000,
      'canary back on 1.0.0',
    );
    expect(sim.versions()).toEqual({ '1.0.0': DEVICES });
  }, 90_000);

  it('with approval policy, waits after each stage until `flotilla rollout advance`', async () => {
    const next = await bundle({ model, version: '1.0.2' });
    const id = await create({ bundle: next, stages: stages([50, 100], 1), policy: { advance: 'approval' } });
    const waiting = await waitState(id, ['waiting_approval', 'completed', 'paused', 'aborted']);
    expect(waiting.state).toBe('waiting_approval');
    await new Promise((r) => setTimeout(r, 2000));
    expect((await status(id)).state).toBe('waiting_approval');
    const firstStage = (await rolloutDevices(id)).filter((r) => r.stage === 0).length;
    expect(sim.versions()['1.0.2']).toBe(firstStage);
    const adv = await runCli(['rollout', 'advance', id, '--reason', 'canary looks good', '--server', srv.url, '--json'], env());
    expect(adv.code, adv.stderr + adv.stdout).toBe(0);
    // The last stage passing completes the rollout (nothing after it to approve).
    const s = await waitState(id, ['completed', 'waiting_approval', 'paused', 'aborted']);
    expect(s.state).toBe('completed');
    await allOn('1.0.2');
  }, 90_000);

  it('resumes a rollout after the server restarts mid-way', async () => {
    const next = await bundle({ model, version: '1.0.3' });
    const id = await create({ bundle: next, stages: stages([10, 50, 100], 3) });
    const mid = await until(
      () => status(id),
      (s) => s.stages[0].state === 'passed' || s.state !== 'running',
      30_000,
      'canary passed',
    );
    expect(mid.state).toBe('running');
    const { dataDir, token } = srv;
    const ports = ['--port', String(new URL(srv.url).port), '--mqtt-port', String(new URL(srv.info.mqttUrl).port)];
    expect(await srv.stop()).toBe(0);
    // Same data folder and ports: the agents keep running and reconnect on their own, as after a deploy.
    srv = await startServerProcess({ dataDir, token, env: ENV, args: ports });
    const s = await waitState(id, ['completed', 'paused', 'aborted'], 60_000);
    expect(s.state).toBe('completed');
    await allOn('1.0.3');
    // Status events queued while the broker was away are sent on reconnect, so every row ends `updated`.
    await until(
      () => status(id),
      (x) => x.counts.updated === DEVICES,
      20_000,
      'every device row updated',
    );
  }, 120_000);

  it('a fleet with crashes, flaky links and slow devices converges; devices whose stack breaks new models stay on the old one', async () => {
    const faulty = await FleetSimulator.start({
      server: srv.url,
      token: srv.token,
      devices: 8,
      cohorts: ['sensor'],
      tags: ['faulty'],
      idPrefix: 'faulty',
      rate: 2,
      telemetryWindowSec: 2,
      seed: 3,
      crashRate: 0.5,
      crashEverySec: 2,
      restartDelayMs: 300,
      flakyRate: 0.5,
      slowRate: 0.5,
      slowDelayMs: 50,
      selfTestFailRate: 0.5,
    });
    try {
      const kinds = faulty.state().map((d) => d.faults);
      for (const f of ['crash', 'flaky', 'slow', 'selfTestFail'])
        expect(
          kinds.some((k) => k.includes(f)),
          f,
        ).toBe(true);
      const oneStage = (bundleId: string) => ({
        bundle: bundleId,
        target: { tags: ['faulty'] },
        stages: [{ percent: 100, bakeSec: 0, gates: { ...GATES, minReporting: 0, maxFailureRate: 1 } }],
      });
      await srv.api('POST', '/api/v1/rollouts', oneStage(good));
      await until(
        () => faulty.versions(),
        (v) => v['1.0.0'] === 8,
        60_000,
        'faulty fleet on 1.0.0',
      );
      // The float artifact: other model bytes than 1.0.0's int8 ones, so the broken stacks see a new model.
      const next = await bundle({ model, version: '1.0.4', artifact: 'model.onnx' });
      await srv.api('POST', '/api/v1/rollouts', oneStage(next));
      const breaks = faulty
        .state()
        .filter((d) => d.faults.includes('selfTestFail'))
        .map((d) => d.id);
      await until(
        () => faulty.state(),
        (ds) => ds.every((d) => d.version === (breaks.includes(d.id) ? '1.0.0' : '1.0.4')),
        60_000,
        'healthy devices on 1.0.4, broken ones back on 1.0.0',
      );
      expect(faulty.state().reduce((n, d) => n + d.crashes, 0)).toBeGreaterThan(0);
      // Links live 3–10 s; a fleet that converged sooner still has to ride out its first drops.
      await until(
        () => faulty.linkDrops,
        (n) => n > 0,
        20_000,
        'a flaky link dropped',
      );
      await until(
        () => faulty.state(),
        (ds) => ds.every((d) => d.version === (breaks.includes(d.id) ? '1.0.0' : '1.0.4')),
        30_000,
        'the fleet still converged after the drops',
      );
      expect(faulty.cohorts().sensor!.predictions).toBeGreaterThan(0);
    } finally {
      await faulty.close();
    }
  }, 150_000);

  it('`flotilla simulate` runs a fleet for --duration and reports it as JSON', async () => {
    const r = await runCli(
      ['simulate', '--devices', '3', '--tags', 'cli', '--rate', '2', '--crash-rate', '1', '--duration', '4', '--server', srv.url, '--json'],
      env(),
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ devices: 3, versions: { none: 3 }, cohorts: { cli: { devices: 3 } } });
    expect((await srv.api('GET', '/api/v1/devices?tag=cli')).body.devices).toHaveLength(3);
  }, 60_000);
});
