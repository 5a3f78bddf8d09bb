// Update control in the engine (issue 18), against a real SQLite file and in-memory ports: the schedule's
// start and end, waiting devices counted per stage by what they wait on, transient failures that are
// waits and not failures, operator retry, and each device's own zone in its policy.
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRef, request, rig, scratch, T0 } from '@flotilla/test/support/rollout-test-kit';
import { devicePolicy, parseConditionShorthand, parseWindowShorthand, schedulePhase } from './update-control.ts';
import { nextDeviceState } from './device-state.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());
const BUNDLE = bundleRef().id;
const iso = (sec: number) => new Date(T0 + sec * 1000).toISOString();

async function setup(devices: number, policy: Record<string, unknown>) {
  const r = rig(tmp.open('updctl'));
  r.fleet.add(devices);
  const created = await r.engine.create(
    request([50, 100], {
      policy,
      stages: [
        { percent: 50, bakeSec: 60 },
        { percent: 100, bakeSec: 60 },
      ],
    }),
    'tok_op',
  );
  const at = async (sec: number) => {
    r.clock.t = T0 + sec * 1000;
    await r.engine.tick();
  };
  return { ...r, id: created.id, at };
}

describe('rollout schedule', () => {
  it('tells nobody before startAt, then notifies as usual', async () => {
    const r = await setup(10, { schedule: { startAt: iso(100) } });
    await r.at(50);
    expect(r.delivery.calls).toEqual([]);
    expect((await r.engine.statusOf(r.id)).counts).toEqual({ planned: 10 });
    await r.at(100);
    expect(r.delivery.told(BUNDLE).size).toBe(5);
  });

  it('after endAt tells nobody new: untold devices leave the rollout, told ones are judged and the rollout completes', async () => {
    const r = await setup(10, { schedule: { endAt: iso(30) } });
    await r.at(0);
    expect(r.delivery.told(BUNDLE).size).toBe(5);
    await r.at(30);
    await r.at(100);
    const s = await r.engine.statusOf(r.id);
    expect(r.delivery.told(BUNDLE).size).toBe(5);
    expect(s.counts).toMatchObject({ excluded: 5 });
    expect(s.state).toBe('completed');
    const untold = (await r.store.rollouts.devices(r.id, { stage: 1 }))[0]!;
    expect((await r.engine.timeline(r.id, untold.deviceId)).timeline.at(-1)).toMatchObject({ kind: 'schedule_ended', state: 'excluded' });
  });

  it('knows where a time falls in a schedule', () => {
    expect(schedulePhase(undefined, 0)).toBe('open');
    expect(schedulePhase({ startAt: iso(10), endAt: iso(20) }, T0)).toBe('before');
    expect(schedulePhase({ startAt: iso(10), endAt: iso(20) }, T0 + 15_000)).toBe('open');
    expect(schedulePhase({ startAt: iso(10), endAt: iso(20) }, T0 + 20_000)).toBe('ended');
  });
});

describe('waiting devices and retries', () => {
  it('counts waiting devices per stage by kind; a transient failure with a retry time is a wait, not a failure', async () => {
    const r = await setup(4, { update: { windows: [{ days: ['mon'], start: '01:00', end: '02:00' }] } });
    await r.at(0);
    const [a, b] = [...r.delivery.told(BUNDLE)];
    await r.engine.recordStatus(a!, {
      bundleId: BUNDLE,
      from: 'staging',
      to: 'waiting_activation',
      event: 'wait',
      waiting: { kind: 'window' },
      seq: 1,
    });
    await r.engine.recordStatus(b!, {
      bundleId: BUNDLE,
      from: 'downloading',
      to: 'failed',
      event: 'failure',
      reason: 'AGENT_DOWNLOAD_FAILED: x',
      permanent: false,
      retryAt: iso(60),
      seq: 1,
    });
    const s = await r.engine.statusOf(r.id);
    expect(s.stages[0]!.waiting).toEqual({ window: 1, lock: 0, condition: 0, network: 1 });
    expect(s.stages[0]!.counts).toEqual({ waiting_window: 1, waiting_network: 1 });
    // The gate sees no failure: the install failure rate stays 0.
    await r.at(10);
    expect((await r.engine.statusOf(r.id)).stages[0]!.verdict?.stats.failed).toBe(0);
    expect(r.delivery.calls[0]).toMatchObject({ kind: 'desired' });
  });

  it('retries the failed devices of a stage with a new nonce, and refuses an unknown stage or a finished rollout', async () => {
    const r = await setup(4, {});
    await r.at(0);
    const [a, b] = [...r.delivery.told(BUNDLE)];
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'probing', to: 'rolling_back', event: 'failure', seq: 1 });
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'rolling_back', to: 'failed', event: 'success', permanent: true, seq: 2 });
    const before = r.delivery.calls.length;
    const out = await r.engine.retry(r.id, 0, 'tok_op', 'fixed the rig');
    expect(out.retried).toBe(1);
    expect(r.delivery.calls.slice(before)).toEqual([{ kind: 'desired', ids: [a], what: BUNDLE }]);
    expect((await r.engine.timeline(r.id, a!)).state).toBe('notified');
    expect((await r.engine.timeline(r.id, b!)).state).toBe('notified');
    await expect(r.engine.retry(r.id, 5, 'tok_op', 'x')).rejects.toMatchObject({ code: 'INVALID_ROLLOUT' });
    await r.engine.act(r.id, 'abort', 'tok_op', 'done');
    await expect(r.engine.retry(r.id, 0, 'tok_op', 'x')).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION', status: 409 });
  });

  it('maps agent events to rollout device states', () => {
    expect(nextDeviceState('staging', { from: 'staging', to: 'waiting_activation', waiting: { kind: 'lock' } })).toBe('waiting_lock');
    expect(nextDeviceState('notified', { from: 'downloading', to: 'waiting_download', waiting: { kind: 'condition' } })).toBe(
      'waiting_condition',
    );
    expect(nextDeviceState('waiting_network', { from: 'failed', to: 'idle' })).toBe('waiting_network');
    expect(nextDeviceState('waiting_network', { from: 'idle', to: 'downloading' })).toBe('downloading');
    expect(nextDeviceState('downloading', { from: 'downloading', to: 'failed' })).toBe('failed');
  });
});

describe('per-device policy', () => {
  it('takes the zone from the device attribute, falling back to the rollout zone for a missing or unknown one', () => {
    const spec = {
      windows: [{ days: ['mon' as const], start: '01:00', end: '02:00' }],
      timeZoneAttribute: 'tz',
      timeZone: 'Europe/Paris',
      urgent: true,
    };
    expect(devicePolicy(spec, { tz: 'Asia/Tokyo' })).toEqual({ windows: spec.windows, urgent: true, timeZone: 'Asia/Tokyo' });
    expect(devicePolicy(spec, { tz: 'Nowhere/Special' })?.timeZone).toBe('Europe/Paris');
    expect(devicePolicy(spec, {})?.timeZone).toBe('Europe/Paris');
    expect(devicePolicy({ timeZoneAttribute: 'tz' }, { tz: 'UTC' })).toBeUndefined();
    expect(devicePolicy(undefined, {})).toBeUndefined();
  });

  it('parses the CLI shorthands and names what is wrong', () => {
    expect(parseWindowShorthand('weekdays@22:00-04:00')).toEqual({
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '22:00',
      end: '04:00',
    });
    expect(parseWindowShorthand('sat,sun@01:00-05:00').days).toEqual(['sat', 'sun']);
    expect(() => parseWindowShorthand('nightly')).toThrow(/DAYS@HH:MM-HH:MM/);
    expect(parseConditionShorthand(['unmetered', 'battery>=40', 'free>=1000'])).toEqual({
      unmetered: true,
      minBatteryPct: 40,
      minFreeBytes: 1000,
    });
    expect(() => parseConditionShorthand(['wifi'])).toThrow(/unmetered, charging, idle/);
  });
});
