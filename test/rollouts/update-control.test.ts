// Update control end to end (issue 18): a real server process, its embedded aedes broker and real agents,
// each on a fake clock the test moves. A maintenance window closed for half the fleet: those devices
// download but serve the old model until their window opens; an app's update lock holds the activation
// until released or until the operator's maximum hold; an urgent rollout activates outside the window; a
// scheduled start holds every notification back; the operator retries a stage's failed devices.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '@flotilla/edge-agent';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { serverBundle, serverKey, type ServerBundle } from '../agent/server-kit.ts';
import { sampleRow } from '../agent/harness/test-models.ts';
import { waitUntil } from '../agent/harness/wait.ts';
import { until } from '../delivery/fleet-kit.ts';

const MODEL = 'updctl-classifier';
const TAG = 'updctl';
/** Monday 2026-12-07 02:30 UTC: 02:30 on a UTC device, 11:30 on a Tokyo one. */
const T0 = Date.parse('2026-12-07T02:30:00Z');
/** Every day 02:00–04:00, local time. */
const NIGHTLY = [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '02:00', end: '04:00' }];
const GATES = { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null };

interface Device {
  id: string;
  agent: Agent;
  clock: { ms: number };
}

let srv: ServerHandle;
let key: string;
let v1: ServerBundle;
let v2: ServerBundle;
const fleet = new Map<string, Device>();

async function startDevice(name: string, tz: string, bundleId: string): Promise<Device> {
  const r = await srv.api('POST', '/api/v1/devices', { id: `${name}-${process.pid}`, tags: [TAG], attributes: { tz } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const id = r.body.id as string;
  expect((await srv.api('PUT', `/api/v1/devices/${id}/desired`, { bundle: bundleId })).status).toBe(200);
  const clock = { ms: T0 };
  const agent = await createAgent({
    deviceId: id,
    token: r.body.token,
    server: srv.url,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-updctl-')),
    trustedKeys: [key],
    backoff: { minMs: 100, maxMs: 1000 },
    now: () => clock.ms,
    updateCheckMs: 100,
  });
  const d = { id, agent, clock };
  fleet.set(name, d);
  return d;
}

const dev = (name: string) => fleet.get(name)!;
const status = async (id: string) => (await srv.api('GET', `/api/v1/rollouts/${id}`)).body;
const timeline = async (id: string, deviceId: string) =>
  (await srv.api('GET', `/api/v1/rollouts/${id}/devices/${deviceId}`)).body.timeline as { kind: string; state: string; detail?: any }[];
async function createRollout(body: Record<string, unknown>): Promise<string> {
  const r = await srv.api('POST', '/api/v1/rollouts', {
    target: { tags: [TAG] },
    stages: [{ percent: 100, bakeSec: 0, gates: GATES }],
    ...body,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}
const serves = async (d: Device) => (await d.agent.predict(sampleRow(16, 7))).model.version;

beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_ROLLOUT_TICK_MS: '300' } });
  key = await serverKey(srv);
  v1 = await serverBundle(srv, MODEL, { headSeed: 1 });
  v2 = await serverBundle(srv, MODEL, { headSeed: 2 });
  for (const [name, tz] of [
    ['utc1', 'UTC'],
    ['utc2', 'UTC'],
    ['tok1', 'Asia/Tokyo'],
    ['tok2', 'Asia/Tokyo'],
    ['lockA', 'UTC'],
    ['lockB', 'UTC'],
  ] as const) {
    await startDevice(name, tz, v1.id);
  }
  for (const d of fleet.values())
    await waitUntil(() => d.agent.model?.version === v1.version && d.agent.state === 'idle', `${d.id} on v1`, 30_000);
}, 120_000);

afterAll(async () => {
  for (const d of fleet.values()) await d.agent.close();
  await srv?.dispose();
});

describe('update control on a real fleet', () => {
  it('half the fleet outside its window downloads but serves the old model until the window opens; a lock holds until release or the maximum hold', async () => {
    const locks = { A: dev('lockA').agent.holdUpdateLock('driving'), B: dev('lockB').agent.holdUpdateLock('call in progress') };
    const id = await createRollout({
      bundle: v2.id,
      policy: { update: { windows: NIGHTLY, timeZoneAttribute: 'tz', maxLockHoldSec: 600 } },
    });

    for (const n of ['utc1', 'utc2'])
      await waitUntil(
        () => dev(n).agent.model?.version === v2.version && dev(n).agent.state === 'idle',
        `${n} inside its window on v2`,
        30_000,
      );
    for (const n of ['tok1', 'tok2', 'lockA', 'lockB'])
      await waitUntil(() => dev(n).agent.state === 'waiting_activation', `${n} staged and waiting`, 30_000);
    // Downloaded, verified and staged, yet the app still gets the old model.
    for (const n of ['tok1', 'tok2', 'lockA', 'lockB']) {
      expect(dev(n).agent.model?.version).toBe(v1.version);
      expect(await serves(dev(n))).toBe(v1.version);
    }
    expect(dev('tok1').agent.updateRecord.waiting).toMatchObject({ kind: 'window', until: Date.parse('2026-12-07T17:00:00Z') });
    expect(dev('lockA').agent.updateRecord.waiting).toMatchObject({ kind: 'lock', until: T0 + 600_000 });

    // The server counts who waits on what, per stage, and keeps each device's latest progress and reason.
    const waiting = await waitUntil(
      async () => {
        const s = await status(id);
        return s.stages[0].waiting.window === 2 && s.stages[0].waiting.lock === 2 && s.counts.updated === 2 ? s : null;
      },
      'two devices waiting on the window and two on a lock at the server',
      15_000,
    );
    expect(waiting.stages[0].counts).toMatchObject({ updated: 2, waiting_window: 2, waiting_lock: 2 });
    const tok = await waitUntil(
      async () => {
        const d = (await srv.api('GET', `/api/v1/devices/${dev('tok1').id}`)).body;
        return d.reported?.update?.waiting ? d : null;
      },
      'tok1 reports what it waits on',
      10_000,
    );
    expect(tok.reported.update).toMatchObject({ bundleId: v2.id, waiting: { kind: 'window', until: '2026-12-07T17:00:00.000Z' } });
    expect(tok.reported.update.progress.chunks).toBe(tok.reported.update.progress.totalChunks);
    const view = (await srv.api('GET', `/api/v1/rollouts/${id}/devices/${dev('tok1').id}`)).body;
    expect(view).toMatchObject({ state: 'waiting_window', update: { bundleId: v2.id, waiting: { kind: 'window' } } });
    const cliView = await runCli(['rollout', 'device', id, dev('tok1').id, '--server', srv.url], { FLOTILLA_TOKEN: srv.token });
    expect(cliView.stdout).toMatch(
      /waiting_window \(waiting on window since .*: outside the maintenance window \(Asia\/Tokyo\).*downloaded (\d+)\/\1 chunks/,
    );
    const wait = (await timeline(id, dev('tok1').id)).find((e) => e.state === 'waiting_window')!;
    expect(wait.detail).toMatchObject({ from: 'staging', to: 'waiting_activation', waiting: { kind: 'window' } });
    expect(wait.detail.reason).toMatch(/outside the maintenance window \(Asia\/Tokyo\); it opens at 2026-12-07T17:00:00.000Z/);

    // The app releases lock A: that device activates at once. Lock B is still held, but its device's clock
    // passes the operator's maximum hold: it activates anyway.
    locks.A.release();
    await waitUntil(
      () => dev('lockA').agent.model?.version === v2.version && dev('lockA').agent.state === 'idle',
      'lockA on v2 after release',
      20_000,
    );
    expect(dev('lockB').agent.state).toBe('waiting_activation');
    expect(await serves(dev('lockB'))).toBe(v1.version);
    dev('lockB').clock.ms = T0 + 601_000;
    await waitUntil(
      () => dev('lockB').agent.model?.version === v2.version && dev('lockB').agent.state === 'idle',
      'lockB on v2 at the maximum hold',
      20_000,
    );
    locks.B.release();

    // The Tokyo devices still wait; their window opens at 02:00 Tokyo time (17:00 UTC).
    expect(await serves(dev('tok1'))).toBe(v1.version);
    for (const n of ['tok1', 'tok2']) dev(n).clock.ms = Date.parse('2026-12-07T17:30:00Z');
    for (const n of ['tok1', 'tok2'])
      await waitUntil(
        () => dev(n).agent.model?.version === v2.version && dev(n).agent.state === 'idle',
        `${n} on v2 once its window opened`,
        20_000,
      );
    expect(await serves(dev('tok2'))).toBe(v2.version);
    await until(
      () => status(id),
      (s: any) => s.counts.updated === 6,
      20_000,
      'every device updated at the server',
    );
    const s = await status(id);
    expect(s.stages[0].waiting).toEqual({ window: 0, lock: 0, condition: 0, network: 0 });
    expect(s.policy.update).toMatchObject({ timeZoneAttribute: 'tz', maxLockHoldSec: 600 });
  }, 120_000);

  it('holds every notification until the scheduled start; an urgent rollout activates outside the window', async () => {
    const v3 = await serverBundle(srv, MODEL, { headSeed: 3 });
    for (const n of ['tok1', 'tok2']) dev(n).clock.ms = Date.parse('2026-12-08T10:00:00Z'); // 19:00 in Tokyo: closed
    const startAt = new Date(Date.now() + 2500).toISOString();
    const id = await createRollout({
      bundle: v3.id,
      target: { deviceIds: [dev('tok1').id, dev('tok2').id] },
      policy: { schedule: { startAt }, update: { windows: NIGHTLY, timeZoneAttribute: 'tz', urgent: true } },
    });
    const before = await status(id);
    expect(before.state).toBe('running');
    expect(before.counts).toEqual({ planned: 2 });
    for (const n of ['tok1', 'tok2'])
      await waitUntil(() => dev(n).agent.model?.version === v3.version && dev(n).agent.state === 'idle', `${n} on the urgent v3`, 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(startAt));
    const notified = (await timeline(id, dev('tok1').id)).find((e) => e.kind === 'notified')!;
    expect(notified).toBeDefined();
    // Straight through: no waiting state on the way.
    const states = (await timeline(id, dev('tok1').id)).map((e) => e.state);
    expect(states.some((x) => x.startsWith('waiting_'))).toBe(false);
  }, 60_000);

  it("reports a failed self-test as permanent; `flotilla rollout retry` makes the stage's failed devices try again", async () => {
    const broken = await srv.api('POST', '/api/v1/bundles', {
      model: MODEL,
      version: '9.0.0',
      selfTests: [
        { name: 'impossible', inputs: { x: Array(16).fill(0.5) }, expected: { y: [7, 7, 7] }, tolerance: { abs: 0.001, rel: 0.001 } },
      ],
    });
    expect(broken.status, JSON.stringify(broken.body)).toBe(201);
    const targets = [dev('utc1').id, dev('utc2').id];
    const id = await createRollout({
      bundle: broken.body.id,
      target: { deviceIds: targets },
      stages: [{ percent: 100, bakeSec: 30, gates: { ...GATES, maxFailureRate: 0.05 } }],
    });
    const failures = async (deviceId: string) =>
      (await timeline(id, deviceId)).filter((e) => e.kind === 'status' && e.detail.to === 'failed');
    const paused = await until(
      () => status(id),
      (s: any) => s.state === 'paused' && s.counts.failed === 2,
      30_000,
      'both devices failed and the gate paused the rollout',
    );
    expect(paused.stages[0].verdict.failures[0].gate).toBe('maxFailureRate');
    for (const d of targets) {
      expect((await failures(d))[0]!.detail).toMatchObject({ permanent: true });
      expect((await timeline(id, d)).find((e) => e.kind === 'status' && e.detail.to === 'rolling_back')!.detail.reason).toMatch(
        /AGENT_SELF_TEST_FAILED/,
      );
    }
    expect(dev('utc1').agent.model?.version).toBe(v2.version);

    const cli = await runCli(
      ['rollout', 'retry', id, '--stage', '1', '--reason', 'flaky self-test rig fixed', '--server', srv.url, '--json'],
      { FLOTILLA_TOKEN: srv.token },
    );
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ id, retried: 2 });
    // Each agent tried the bundle again (a new retry nonce), failed the same way, and the server saw it.
    for (const d of targets)
      await waitUntil(async () => (await failures(d)).length >= 2, `${d} failed a second time after the retry`, 30_000);
    const events = (await srv.api('GET', `/api/v1/rollouts/${id}/events`)).body.events;
    expect(events.find((e: any) => e.kind === 'retry')).toMatchObject({
      reason: 'flaky self-test rig fixed',
      detail: { stage: 0, devices: 2 },
    });
    expect((await srv.api('GET', `/api/v1/devices/${targets[0]}`)).body.desired.retry).toBe(1);
    const bad = await srv.api('POST', `/api/v1/rollouts/${id}/retry`, { stage: 4, reason: 'no such stage' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/stage 4 does not exist/);
  }, 90_000);

  it('refuses bad update policies and schedules with clear 400s', async () => {
    const refuse = async (policy: unknown, says: string) => {
      const r = await srv.api('POST', '/api/v1/rollouts', { bundle: v2.id, target: { tags: [TAG] }, stages: [{ percent: 100 }], policy });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(JSON.stringify(r.body.error)).toContain(says);
    };
    await refuse({ update: { windows: [{ days: ['mon'], start: '24:00', end: '02:00' }] } }, 'a time is HH:MM');
    await refuse({ update: { windows: [{ days: ['someday'], start: '01:00', end: '02:00' }] } }, 'days');
    await refuse({ update: { windows: NIGHTLY, timeZone: 'Mars/Olympus_Mons' } }, 'unknown time zone');
    await refuse({ schedule: { startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' } }, 'endAt must be after startAt');
    await refuse({ schedule: { endAt: '2020-01-01T00:00:00Z' } }, 'has passed');
    await refuse({ schedule: { startAt: 'tomorrow' } }, 'ISO 8601');
    await refuse({ update: { windows: Array(33).fill(NIGHTLY[0]) } }, 'at most 32 windows');
    await refuse({ update: { conditions: { wifi: true } } }, 'wifi');
    await refuse({ update: { maxLockHoldSec: -1 } }, 'maxLockHoldSec');
  }, 30_000);
});
