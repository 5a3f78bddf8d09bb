// Shadow stages end to end (issue 7): a real server process, a simulated fleet of real agents running the
// shadow beside the serving model, and the engine gating promotion on the shadow's disagreement.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetSimulator } from '../../server/src/simulator/index.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { until } from '../delivery/fleet-kit.ts';
import { E2E_ENV, E2E_GATES, rolloutKit, trainDigits } from './rollout-kit.ts';

// Two cohorts, one per scenario: monitoring rolls shadow figures up per device and hour without the shadow's
// name, so one device set must not carry two shadow runs within the hour.
const PER_COHORT = 5;
const SHADOW_GATES = { ...E2E_GATES, maxErrorRate: 0.02, maxDisagreement: 0.1 };

let srv: ServerHandle;
let sim: FleetSimulator;
let good: string;
let wild: string;
let same: string;
/** Every model each agent served, and every shadow it loaded, from the start. */
const served = new Map<string, Set<string>>();
const shadowed = new Map<string, Set<string>>();

const kit = rolloutKit(() => srv, { tags: ['shadow-e2e'] });
const cohort = (c: string) => sim.devices.filter((d) => d.c.cohort === c);
const note = (m: Map<string, Set<string>>, id: string, v: string | undefined) => v && m.set(id, (m.get(id) ?? new Set()).add(v));
const desiredOf = async (id: string) => (await srv.api('GET', `/api/v1/devices/${id}`)).body.desired;

beforeAll(async () => {
  srv = await startServerProcess({ env: E2E_ENV });
  const model = await trainDigits(srv);
  // A model that disagrees: trained with a learning rate too small to move it off its random start.
  const wildModel = await trainDigits(srv, {
    trainArgs: ['--learning-rate', '0.0000001', '--seed', '9', '--batch-size', '512'],
    quantize: 'none',
  });
  good = await kit.bundle({ model, version: '1.0.0' });
  wild = await kit.bundle({ model: wildModel, version: '2.0.0', artifact: 'model.onnx' });
  // An agreeing candidate: the same weights re-released (what a rebuilt or re-signed bundle looks like).
  same = await kit.bundle({ model, version: '1.1.0' });
  sim = await FleetSimulator.start({
    server: srv.url,
    token: srv.token,
    devices: 2 * PER_COHORT,
    cohorts: ['a', 'b'],
    tags: ['shadow-e2e'],
    rate: 4,
    telemetryWindowSec: 2,
  });
  for (const d of sim.devices) {
    d.agent!.on('model', (e) => note(served, d.c.id, e.model?.version));
    d.agent!.on('shadow', (e) => note(shadowed, d.c.id, e.model?.version));
  }
  await kit.create({ bundle: good, stages: [{ percent: 100, bakeSec: 0, gates: { ...E2E_GATES, minReporting: 0 } }] });
  await until(
    () => sim.versions(),
    (v) => v['1.0.0'] === 2 * PER_COHORT,
    60_000,
    'every device on 1.0.0',
  );
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await srv?.stop();
  if (srv) rmSync(srv.dataDir, { recursive: true, force: true });
});

describe('shadow stages on a simulated fleet', () => {
  it('a shadow that disagrees too often blocks promotion: aborted at the shadow stage, shadow cleared, nobody served it', async () => {
    const id = await kit.create({
      bundle: wild,
      target: { tags: ['a'] },
      policy: { onGateFail: 'abort' },
      stages: [
        { percent: 40, bakeSec: 4, shadow: true, gates: SHADOW_GATES },
        { percent: 100, bakeSec: 2, gates: E2E_GATES },
      ],
    });
    const s = await kit.waitState(id, ['aborted', 'completed', 'paused'], 90_000);
    expect(s.state, JSON.stringify(s.stages[0].verdict)).toBe('aborted');
    expect(s.current).toBe(0);
    const failures = s.stages[0].verdict.failures;
    expect(failures.map((f: { gate: string }) => f.gate)).toContain('maxDisagreement');
    expect(failures.find((f: { gate: string }) => f.gate === 'maxDisagreement').value).toBeGreaterThan(0.5);
    const rows = await kit.rolloutDevices(id);
    const inShadow = rows.filter((r) => r.stage === 0).map((r) => r.deviceId);
    expect(inShadow).toHaveLength(2);
    // The shadow really ran there, and only there; no device of the fleet ever served 2.0.0.
    for (const d of cohort('a')) expect(shadowed.get(d.c.id)?.has('2.0.0') ?? false).toBe(inShadow.includes(d.c.id));
    for (const d of sim.devices) expect([...(served.get(d.c.id) ?? [])]).not.toContain('2.0.0');
    expect(rows.filter((r) => r.stage !== 0).every((r) => r.notifiedAt === null)).toBe(true);
    // Abort cleared the shadow from the desired state, and the agents unloaded it.
    for (const deviceId of inShadow) expect((await desiredOf(deviceId)).shadow).toBeNull();
    await until(
      () => cohort('a').map((d) => d.agent?.shadowModel ?? null),
      (m) => m.every((x) => x === null),
      20_000,
      'shadow unloaded',
    );
    expect(sim.versions()).toEqual({ '1.0.0': 2 * PER_COHORT });
  }, 120_000);

  it('a shadow that agrees passes its gate (`--stages shadow:40,100` from the CLI): its devices are promoted, then everyone', async () => {
    const r = await runCli(
      [
        'rollout',
        'create',
        '--bundle',
        same,
        '--target',
        'tag=b',
        '--stages',
        'shadow:40,100',
        '--bake',
        '4',
        '--gate',
        'minReporting=0.5',
        'maxConfidenceDrop=null',
        'maxDriftScore=null',
        'maxDisagreement=0.1',
        '--server',
        srv.url,
        '--json',
      ],
      kit.env(),
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const id = JSON.parse(r.stdout).id as string;
    const s = await kit.waitState(id, ['completed', 'aborted', 'paused'], 90_000);
    expect(s.state, JSON.stringify(s.stages.map((x: { verdict: unknown }) => x.verdict))).toBe('completed');
    expect(s.stages[0].shadow).toBe(true);
    expect(s.stages[0].verdict.stats.disagreement).toBeLessThanOrEqual(0.1);
    const inShadow = (await kit.rolloutDevices(id)).filter((r) => r.stage === 0).map((r) => r.deviceId);
    for (const deviceId of inShadow) expect(shadowed.get(deviceId)?.has('1.1.0')).toBe(true);
    const rows = await kit.rolloutDevices(id);
    await until(
      () => cohort('b').map((d) => d.agent?.model?.version),
      (v) => v.every((x) => x === '1.1.0'),
      30_000,
      'cohort b on 1.1.0',
    ).catch(async (e) => {
      const why = await Promise.all(
        cohort('b').map(async (d) => ({
          id: d.c.id,
          v: d.agent?.model?.version,
          rec: d.agent?.updateRecord,
          desired: await desiredOf(d.c.id),
          row: rows.find((x) => x.deviceId === d.c.id),
        })),
      );
      throw new Error(`${(e as Error).message}\n${JSON.stringify(why, null, 1)}\n${JSON.stringify(await kit.events(id))}`);
    });
    for (const d of cohort('b')) expect((await desiredOf(d.c.id)).shadow).toBeNull();
    expect(cohort('a').every((d) => d.agent?.model?.version === '1.0.0')).toBe(true);
  }, 120_000);
});
