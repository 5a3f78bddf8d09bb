// The runner, as Mender tests it: expected state sequences with a failure injected at each step,
// the state saved before each step, resumption after a crash, the loop guard, and cancellation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployState } from '@flotilla/firmware-bundler/wire';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../storage/file-storage.ts';
import { StateMachine, type Transition } from './state-machine.ts';
import type { StepHandler } from './steps.ts';
import { initialRecord, loadRecord, type UpdateRecord, type UpdateTarget } from './update-record.ts';

type Step = Exclude<DeployState, 'idle'>;
const TARGET: UpdateTarget = {
  id: 'a'.repeat(64),
  model: 'm',
  version: '2.0.0',
  sequence: 2,
  manifestDigest: 'b'.repeat(64),
  bytes: 1,
  source: 'server',
};

let dir: string;
let storage: FileStorage;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sm-'));
  storage = await FileStorage.open(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Scripted steps: each succeeds unless named in `fail`; every call is logged with the state the disk held. */
function scripted(fail: Set<Step>, log: string[]): Record<Step, StepHandler> {
  const make =
    (s: Step): StepHandler =>
    async () => {
      const saved = await loadRecord(storage);
      log.push(`${s}${saved.state === s ? '' : ` (disk says ${saved.state})`}`);
      if (fail.has(s)) throw new Error(`${s} broke`);
      return { event: 'success', reason: `${s} ok`, patch: s === 'staging' ? { slot: 'b', previous: 'a' } : {} };
    };
  return Object.fromEntries(
    (['downloading', 'verifying', 'staging', 'activating', 'probing', 'committing', 'rolling_back', 'failed'] as Step[]).map((s) => [
      s,
      make(s),
    ]),
  ) as Record<Step, StepHandler>;
}

async function runWith(fail: Step[], record: UpdateRecord = initialRecord()) {
  const log: string[] = [];
  const transitions: Transition[] = [];
  const sm = new StateMachine(storage, scripted(new Set(fail), log), { onTransition: (t) => transitions.push(t) });
  const started = record.state === 'idle' ? await sm.begin(record, TARGET, 'new bundle') : record;
  const end = await sm.run(started, new AbortController().signal);
  return { log, transitions, end, path: ['idle', ...transitions.map((t) => t.to)].join(' → ') };
}

const HAPPY = 'idle → downloading → verifying → staging → activating → probing → committing → idle';

describe('state sequences with a failure injected at each step', () => {
  // prettier-ignore
  const cases: [fail: Step[], expected: string][] = [
    [[],                           HAPPY],
    [['downloading'],              'idle → downloading → failed → idle'],
    [['verifying'],                'idle → downloading → verifying → failed → idle'],
    [['staging'],                  'idle → downloading → verifying → staging → failed → idle'],
    [['activating'],               'idle → downloading → verifying → staging → activating → rolling_back → failed → idle'],
    [['probing'],                  'idle → downloading → verifying → staging → activating → probing → rolling_back → failed → idle'],
    [['committing'],               'idle → downloading → verifying → staging → activating → probing → committing → rolling_back → failed → idle'],
    [['probing', 'rolling_back'],  'idle → downloading → verifying → staging → activating → probing → rolling_back → failed → idle'],
    [['probing', 'failed'],        'idle → downloading → verifying → staging → activating → probing → rolling_back → failed → idle'],
  ];
  it.each(cases)('fail %j → %s', async (fail, expected) => {
    const { path, log, end, transitions } = await runWith(fail);
    expect(path).toBe(expected);
    // The disk held each state before its step ran (no "(disk says …)" entries).
    expect(log.every((l) => !l.includes('disk says'))).toBe(true);
    expect(end).toMatchObject({ state: 'idle', target: null, slot: null, resumes: 0, failure: null });
    expect((await loadRecord(storage)).state).toBe('idle');
    // Every change is reported with a reason, numbered without gaps [WIRE-2.4].
    expect(transitions.map((t) => t.seq)).toEqual(transitions.map((_, i) => i));
    if (fail.length) {
      const failure = transitions.find((t) => t.event === 'failure')!;
      expect(failure.reason).toContain(`${fail[0]} broke`);
      expect(transitions.every((t) => t.target?.id === TARGET.id)).toBe(true);
    }
  });
});

describe('resuming after a crash', () => {
  it.each(['downloading', 'staging', 'probing', 'rolling_back'] as Step[])('runs %s again, then carries on', async (state) => {
    const record: UpdateRecord = { ...initialRecord(), state, target: TARGET, slot: 'b', previous: 'a' };
    const sm = new StateMachine(storage, scripted(new Set(), []), {});
    const resumed = await sm.resume(record);
    expect(resumed.resumes).toBe(1);
    expect((await loadRecord(storage)).resumes).toBe(1);
    const { log } = await runWith([], resumed);
    expect(log[0]).toBe(state);
  });

  it('ends an update that keeps restarting through the loop guard', async () => {
    const transitions: Transition[] = [];
    const sm = new StateMachine(storage, scripted(new Set(), []), { maxResumes: 3, onTransition: (t) => transitions.push(t) });
    let r: UpdateRecord = { ...initialRecord(), state: 'probing', target: TARGET, slot: 'b', previous: 'a' };
    for (let i = 0; i < 3; i++) r = await sm.resume(r);
    expect(r.state).toBe('probing');
    r = await sm.resume(r);
    expect(r.state).toBe('rolling_back');
    expect(transitions[0]).toMatchObject({ from: 'probing', to: 'rolling_back', event: 'loop_guard' });
    expect(r.failure).toMatch(/^AGENT_LOOP_GUARD/);
    const end = await sm.run(r, new AbortController().signal);
    expect(end.state).toBe('idle');
  });

  it('guards before activation by failing, not rolling back', async () => {
    const sm = new StateMachine(storage, scripted(new Set(), []), { maxResumes: 0 });
    const r = await sm.resume({ ...initialRecord(), state: 'downloading', target: TARGET });
    expect(r.state).toBe('failed');
  });
});

describe('cancelling', () => {
  it('cancels a download when the desired bundle changes, but never after activation', async () => {
    const ctl = new AbortController();
    const steps = scripted(new Set(), []);
    steps.downloading = (_r, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const sm = new StateMachine(storage, steps, {});
    const started = await sm.begin(initialRecord(), TARGET, 'x');
    const done = sm.run(started, ctl.signal);
    ctl.abort();
    expect((await done).state).toBe('idle');

    const seen: Transition[] = [];
    const after = new StateMachine(storage, scripted(new Set(), []), { onTransition: (t) => seen.push(t) });
    const aborted = new AbortController();
    aborted.abort();
    const late = await after.run({ ...initialRecord(), state: 'probing', target: TARGET, slot: 'b', previous: 'a' }, aborted.signal);
    expect(seen.map((t) => `${t.from}:${t.event}`)).toEqual(['probing:success', 'committing:success']);
    expect(late.state).toBe('idle');
  });

  it('stops between steps when the agent closes, leaving the saved state to resume', async () => {
    const sm = new StateMachine(storage, scripted(new Set(), []), {});
    let n = 0;
    const started = await sm.begin(initialRecord(), TARGET, 'x');
    const r = await sm.run(started, new AbortController().signal, () => n++ >= 2);
    expect(r.state).toBe('staging');
    expect(await loadRecord(storage)).toMatchObject({ state: 'staging', cleanStop: true });
    // A clean stop is not a crash: resuming after it does not count towards the loop guard.
    expect((await sm.resume(r)).resumes).toBe(0);
  });
});
