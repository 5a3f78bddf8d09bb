// The engine against a real SQLite file and in-memory ports: stages, gates, shadow, approval, pacing, conflicts.
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRef, FakeClock, OLD_BUNDLE, request, rig, scratch, type Rig } from '@flotilla/test/support/rollout-test-kit';
import type { RolloutError } from './rollout-error.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());
const BUNDLE = bundleRef().id;

async function setup(devices: number, req: Record<string, unknown>, over: Partial<Rig> = {}) {
  const r = rig(tmp.open('engine'), over);
  r.fleet.add(devices);
  const created = await r.engine.create(req, 'tok_op');
  return { ...r, id: created.id };
}
const at = async (r: Rig, sec: number) => {
  r.clock.t = Date.parse('2026-03-01T00:00:00.000Z') + sec * 1000;
  await r.engine.tick();
};
const stageIds = async (r: Rig, id: string, stage: number) => (await r.store.rollouts.devices(id, { stage })).map((d) => d.deviceId);
const failure = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: RolloutError) => ({ code: e.code, status: e.status }),
  );

describe('RolloutEngine', () => {
  it('advances stage by stage on healthy stats, each stage only after its bake', async () => {
    const r = await setup(20, request([10, 50, 100]));
    const steps = [
      { sec: 30, state: 'running', current: 0, told: 2 },
      { sec: 60, state: 'running', current: 1, told: 10 },
      { sec: 119, state: 'running', current: 1, told: 10 },
      { sec: 120, state: 'running', current: 2, told: 20 },
      { sec: 180, state: 'completed', current: 2, told: 20 },
    ];
    for (const s of steps) {
      await at(r, s.sec);
      const st = await r.engine.statusOf(r.id);
      expect({ sec: s.sec, state: st.state, current: st.current, told: r.delivery.told(BUNDLE).size }).toEqual(s);
    }
    // Each notification went to exactly one stage's devices, in stage order.
    const desired = r.delivery.calls.filter((c) => c.kind === 'desired');
    expect(desired.map((c) => c.ids.sort())).toEqual([
      (await stageIds(r, r.id, 0)).sort(),
      (await stageIds(r, r.id, 1)).sort(),
      (await stageIds(r, r.id, 2)).sort(),
    ]);
    const st = await r.engine.statusOf(r.id);
    expect(st.stages.map((s) => [s.state, s.devices])).toEqual([
      ['passed', 2],
      ['passed', 8],
      ['passed', 10],
    ]);
    expect((await r.engine.events(r.id)).map((e) => e.kind)).toEqual(['created', 'start', 'stage_passed', 'stage_passed', 'finish']);
  });

  it.each([
    { onGateFail: 'pause', state: 'paused', event: 'gate_failed', rollbacks: 0, canaryState: 'notified', stageState: 'active' },
    {
      onGateFail: 'abort',
      state: 'aborted',
      event: 'gate_failed_abort',
      rollbacks: 1,
      canaryState: 'rollback_pending',
      stageState: 'failed',
    },
  ] as const)('a failing gate at the canary with onGateFail=$onGateFail leaves it $state; nobody outside the canary is told', async (c) => {
    const r = await setup(20, request([10, 50, 100], { policy: { onGateFail: c.onGateFail } }));
    r.health.override = (q) => (q.stage === 0 ? { errorRate: 0.5 } : {});
    for (const sec of [0, 60, 120, 600]) await at(r, sec);
    const st = await r.engine.statusOf(r.id);
    const canary = await stageIds(r, r.id, 0);
    expect(st.state).toBe(c.state);
    expect(st.stages[0]!.state).toBe(c.stageState);
    expect(st.stages[0]!.verdict?.failures).toEqual([{ gate: 'maxErrorRate', value: 0.5, limit: 0.02 }]);
    expect([...r.delivery.told(BUNDLE)].sort()).toEqual(canary.sort());
    expect(new Set(r.delivery.calls.flatMap((c) => c.ids)).size).toBe(canary.length);
    const rollbacks = r.delivery.calls.filter((x) => x.what === `rollback:${OLD_BUNDLE}`);
    expect(rollbacks.length).toBe(c.rollbacks);
    if (c.rollbacks) expect(rollbacks[0]!.ids.sort()).toEqual(canary.sort());
    expect(st.stages[0]!.counts).toEqual({ [c.canaryState]: 2 });
    const ev = (await r.engine.events(r.id)).find((e) => e.kind === c.event)!;
    expect({ actor: ev.actor, reason: ev.reason }).toEqual({ actor: 'engine', reason: 'maxErrorRate 0.5 > 0.02' });
  });

  it.each([
    { disagreement: 0.3, state: 'paused', promoted: false },
    { disagreement: 0.02, state: 'running', promoted: true },
  ])('a shadow stage with disagreement $disagreement: promoted=$promoted', async (c) => {
    const stages = [
      { percent: 10, bakeSec: 60, shadow: true },
      { percent: 100, bakeSec: 60 },
    ];
    const r = await setup(20, request([], { stages }));
    r.health.override = (q) => (q.shadow ? { disagreement: c.disagreement, confidenceDrop: null, driftScore: null } : {});
    await at(r, 60);
    const canary = await stageIds(r, r.id, 0);
    expect(r.delivery.calls[0]).toEqual({ kind: 'shadow', ids: expect.arrayContaining(canary), what: BUNDLE });
    expect(r.health.queries.filter((q) => q.stage === 0).every((q) => q.shadow)).toBe(true);
    const st = await r.engine.statusOf(r.id);
    expect(st.state).toBe(c.state);
    const served = r.delivery.calls.filter((x) => x.kind === 'desired' && x.what === BUNDLE).flatMap((x) => x.ids);
    if (c.promoted) {
      expect(r.delivery.calls.some((x) => x.kind === 'shadow' && x.what === 'clear' && canary.every((d) => x.ids.includes(d)))).toBe(true);
      expect(served.length).toBe(20);
      expect(st.current).toBe(1);
    } else {
      expect(served).toEqual([]);
      expect(st.stages[0]!.verdict?.failures.map((f) => f.gate)).toEqual(['maxDisagreement']);
    }
  });

  it.each([
    { why: 'the shadow gate fails with onGateFail=abort', gates: { maxDisagreement: 0.1 }, act: null },
    { why: 'an operator aborts mid-shadow', gates: { maxDisagreement: 0.9 }, act: 'abort' },
  ] as const)('a shadow stage ends cleared when $why: nothing to roll back, nobody served the bundle', async (c) => {
    const stages = [
      { percent: 10, bakeSec: 600, shadow: true, gates: c.gates },
      { percent: 100, bakeSec: 60 },
    ];
    const r = await setup(20, request([], { stages, policy: { onGateFail: 'abort' } }));
    r.health.override = (q) =>
      q.shadow ? { disagreement: 0.5, errorRate: 0.01, p95LatencyMs: 3, confidenceDrop: null, driftScore: null } : {};
    await at(r, 30);
    if (c.act) await r.engine.act(r.id, c.act, 'tok_lead', 'not this one');
    const st = await r.engine.statusOf(r.id);
    const canary = await stageIds(r, r.id, 0);
    expect(st.state).toBe('aborted');
    expect(r.delivery.calls.map((x) => (x.kind === 'shadow' ? x.what : `desired:${x.what}`))).toEqual([BUNDLE, 'clear']);
    expect(r.delivery.calls[1]!.ids.sort()).toEqual(canary.sort());
    expect(st.stages[0]!.counts).toEqual({ rolled_back: 2 });
    if (!c.act) expect(st.stages[0]!.verdict?.failures).toEqual([{ gate: 'maxDisagreement', value: 0.5, limit: 0.1 }]);
  });

  it('a promoted shadow device that fails its install fails the next stage, and goes back with it', async () => {
    const stages = [
      { percent: 10, bakeSec: 60, shadow: true },
      { percent: 100, bakeSec: 60 },
    ];
    // 10 devices: the failed one is 10% of stage 2's judged devices (5% allowed).
    const r = await setup(10, request([], { stages, policy: { onGateFail: 'abort' } }));
    r.health.override = (q) => (q.shadow ? { disagreement: 0.01, confidenceDrop: null, driftScore: null } : {});
    await at(r, 60);
    const [a] = await stageIds(r, r.id, 0);
    expect((await r.engine.statusOf(r.id)).current).toBe(1);
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'probing', to: 'rolling_back', event: 'self_test_failed' });
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'rolling_back', to: 'idle', event: 'rolled_back' });
    await at(r, 70);
    const st = await r.engine.statusOf(r.id);
    expect(st.state).toBe('aborted');
    expect(st.stages[1]!.verdict?.failures.map((f) => f.gate)).toEqual(['maxFailureRate']);
    expect(r.delivery.calls.some((x) => x.what === `rollback:${OLD_BUNDLE}` && x.ids.includes(a!))).toBe(true);
  });

  it('a shadow stage is judged on the shadow error rate and p95 too', async () => {
    const stages = [
      { percent: 10, bakeSec: 60, shadow: true, gates: { maxP95LatencyMs: 50 } },
      { percent: 100, bakeSec: 60 },
    ];
    const r = await setup(20, request([], { stages }));
    r.health.override = (q) =>
      q.shadow ? { disagreement: 0.01, errorRate: 0.3, p95LatencyMs: 80, confidenceDrop: null, driftScore: null } : {};
    await at(r, 60);
    const st = await r.engine.statusOf(r.id);
    expect(st.state).toBe('paused');
    expect(st.stages[0]!.verdict?.failures.map((f) => f.gate)).toEqual(['maxErrorRate', 'maxP95LatencyMs']);
    expect(r.delivery.calls.filter((x) => x.kind === 'desired')).toEqual([]);
  });

  it('approval policy: a passed stage waits for advance, however long', async () => {
    const r = await setup(20, request([10, 100], { policy: { advance: 'approval' } }));
    for (const sec of [60, 600, 6000]) await at(r, sec);
    expect((await r.engine.statusOf(r.id)).state).toBe('waiting_approval');
    expect(r.delivery.told(BUNDLE).size).toBe(2);
    const st = await r.engine.act(r.id, 'advance', 'tok_lead', 'canary looks good');
    expect([st.state, st.current, r.delivery.told(BUNDLE).size]).toEqual(['running', 1, 20]);
  });

  it.each([
    { why: 'too few devices report', health: { reporting: 2 }, short: '2 of 4 devices for minReporting' },
    {
      why: 'a gated metric is not measured',
      health: { driftScore: null, driftSamples: 0 },
      short: '0 of 200 drift samples for maxDriftScore',
    },
    {
      why: 'too few requests',
      health: { requests: 4, errors: 1, errorRate: 0.25 },
      short: '4 of 50 requests for maxErrorRate; 4 of 50 requests for maxConfidenceDrop',
    },
  ])('insufficient evidence ($why) waits, and only pauses (never fails) after the stage timeout', async (c) => {
    const r = await setup(10, request([], { stages: [{ percent: 50, bakeSec: 60, timeoutSec: 300 }, { percent: 100 }] }));
    r.health.override = () => c.health;
    for (const sec of [60, 200, 359]) {
      await at(r, sec);
      const st = await r.engine.statusOf(r.id);
      expect([sec, st.state, st.stages[0]!.verdict?.insufficient]).toEqual([sec, 'running', true]);
    }
    await at(r, 360);
    const st = await r.engine.statusOf(r.id);
    expect(st.state).toBe('paused');
    expect(st.stages[0]!.verdict?.failures ?? []).toEqual([]);
    expect(st.stages[0]!.verdict?.state).toBe('waiting');
    const ev = (await r.engine.events(r.id)).at(-1)!;
    expect(ev.kind).toBe('insufficient_evidence');
    expect(ev.reason).toBe(
      `insufficient evidence 300s after the bake: ${c.short}; resume to wait another 300s, or advance to pass the stage without it`,
    );
  });

  it('resume on a stage paused for too little evidence judges again at once and waits another timeout; it proceeds once the evidence is there', async () => {
    const r = await setup(
      10,
      request([], {
        stages: [
          { percent: 50, bakeSec: 60, timeoutSec: 300 },
          { percent: 100, bakeSec: 60 },
        ],
      }),
    );
    r.health.override = () => ({ requests: 3, errors: 0 });
    await at(r, 60);
    await at(r, 360);
    expect((await r.engine.statusOf(r.id)).state).toBe('paused');
    await at(r, 400);
    const resumed = await r.engine.act(r.id, 'resume', 'tok_op', 'more traffic coming');
    expect([resumed.state, resumed.stages[0]!.verdict?.state, resumed.stages[0]!.verdict?.at]).toEqual([
      'running',
      'waiting',
      new Date(r.clock.t).toISOString(),
    ]);
    await at(r, 699);
    expect((await r.engine.statusOf(r.id)).state).toBe('running');
    await at(r, 700);
    expect((await r.engine.statusOf(r.id)).state).toBe('paused');
    r.health.override = () => ({});
    const again = await r.engine.act(r.id, 'resume', 'tok_op', 'traffic is back');
    expect([again.state, again.current, again.stages[0]!.state]).toEqual(['running', 1, 'passed']);
  });

  it('resume on a stage paused by a failing gate judges again: paused again with the fresh reason while it fails, on once it holds', async () => {
    const r = await setup(
      10,
      request([], {
        stages: [
          { percent: 50, bakeSec: 60 },
          { percent: 100, bakeSec: 60 },
        ],
      }),
    );
    r.health.override = () => ({ errorRate: 0.3 });
    await at(r, 60);
    expect((await r.engine.statusOf(r.id)).state).toBe('paused');
    r.health.override = () => ({ errorRate: 0.1 });
    const still = await r.engine.act(r.id, 'resume', 'tok_op', 'fixed?');
    expect([still.state, still.stages[0]!.verdict?.failures]).toEqual(['paused', [{ gate: 'maxErrorRate', value: 0.1, limit: 0.02 }]]);
    expect((await r.engine.events(r.id)).slice(-2).map((e) => [e.kind, e.reason])).toEqual([
      ['resume', 'fixed?'],
      ['gate_failed', 'maxErrorRate 0.1 > 0.02'],
    ]);
    r.health.override = () => ({});
    const on = await r.engine.act(r.id, 'resume', 'tok_op', 'fixed now');
    expect([on.state, on.current, on.stages[0]!.state]).toEqual(['running', 1, 'passed']);
  });

  it.each([
    {
      rate: { devicesPerMinute: 10 },
      expected: [
        [0, 10],
        [59, 10],
        [60, 20],
        [120, 30],
        [180, 35],
      ],
    },
    {
      rate: { devicesPerMinute: 5, rampFactor: 2 },
      expected: [
        [0, 5],
        [59, 5],
        [60, 15],
        [120, 35],
      ],
    },
  ])('rate $rate paces notifications', async (c) => {
    const r = await setup(35, request([100], { policy: { rate: c.rate } }));
    for (const [sec, told] of c.expected) {
      await at(r, sec!);
      expect([sec, r.delivery.told(BUNDLE).size]).toEqual([sec, told]);
    }
    // The bake starts only once the last device was told.
    expect((await r.engine.statusOf(r.id)).stages[0]!.bakeStartedAt).toBe(
      new Date(Date.parse('2026-03-01T00:00:00.000Z') + c.expected.at(-1)![0]! * 1000).toISOString(),
    );
  });

  it('a pause banks no burst: after resume the rate window starts again', async () => {
    const r = await setup(50, request([100], { policy: { rate: { devicesPerMinute: 10 } } }));
    await at(r, 30);
    await r.engine.act(r.id, 'pause', 'tok_op', 'looking at a dashboard');
    await at(r, 600);
    await r.engine.act(r.id, 'resume', 'tok_op', 'fine');
    expect(r.delivery.told(BUNDLE).size).toBe(20);
  });

  it('offline devices are told like the rest (the retained desired state reaches them later)', async () => {
    const r = rig(tmp.open('offline'));
    r.fleet.add(8);
    r.fleet.add(2, { online: false }, 'off');
    r.health.override = (q) => ({ reporting: q.deviceIds.filter((d) => r.fleet.devices.get(d)!.online).length });
    const { id } = await r.engine.create(request([100]), 'tok_op');
    await at(r, 60);
    expect(r.delivery.told(BUNDLE).has('off000')).toBe(true);
    expect((await r.engine.statusOf(id)).state).toBe('completed');
  });

  it('ignores a repeated or late status event (at least once delivery, several server processes)', async () => {
    const r = await setup(20, request([10, 100]));
    const [a] = await stageIds(r, r.id, 0);
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'idle', to: 'downloading', event: 'start', seq: 4 });
    expect(await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'committing', to: 'idle', event: 'committed', seq: 9 })).toEqual({
      rolloutId: r.id,
      state: 'updated',
    });
    // A copy of seq 4 handled late by another process must not move the device back to downloading.
    expect(await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'idle', to: 'downloading', event: 'start', seq: 4 })).toEqual({
      rolloutId: r.id,
      state: 'updated',
    });
    expect(await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'committing', to: 'idle', event: 'committed', seq: 9 })).toEqual({
      rolloutId: r.id,
      state: 'updated',
    });
    const tl = await r.engine.timeline(r.id, a!);
    expect(tl.timeline.filter((e) => e.kind === 'status').map((e) => e.state)).toEqual(['downloading', 'updated']);
  });

  it('status events build the timeline, and install failures count against maxFailureRate', async () => {
    const r = await setup(20, request([10, 100]));
    const [a, b] = await stageIds(r, r.id, 0);
    expect(await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'idle', to: 'downloading', event: 'start' })).toEqual({
      rolloutId: r.id,
      state: 'downloading',
    });
    await r.engine.recordStatus(a!, { bundleId: BUNDLE, from: 'committing', to: 'idle', event: 'committed' });
    await r.engine.recordStatus(b!, { bundleId: BUNDLE, from: 'probing', to: 'rolling_back', event: 'self_test_failed' });
    await r.engine.recordStatus(b!, { bundleId: BUNDLE, from: 'rolling_back', to: 'idle', event: 'rolled_back' });
    expect(await r.engine.recordStatus(a!, { bundleId: 'f'.repeat(64), from: 'idle', to: 'downloading' })).toBeNull();
    expect(await r.engine.recordStatus('stranger', { bundleId: BUNDLE, from: 'idle', to: 'downloading' })).toBeNull();
    const tl = await r.engine.timeline(r.id, a!);
    expect(tl.timeline.map((e) => [e.kind, e.state])).toEqual([
      ['planned', 'planned'],
      ['notified', 'notified'],
      ['status', 'downloading'],
      ['status', 'updated'],
    ]);
    await at(r, 10);
    const st = await r.engine.statusOf(r.id);
    expect([st.state, st.stages[0]!.counts]).toEqual(['paused', { updated: 1, failed: 1 }]);
    expect(st.stages[0]!.verdict?.failures).toEqual([{ gate: 'maxFailureRate', value: 0.5, limit: 0.05 }]);
    expect(await failure(r.engine.timeline(r.id, 'stranger'))).toEqual({ code: 'DEVICE_NOT_IN_ROLLOUT', status: 404 });
  });

  it('operator rollback sends every told device back to its previous bundle; agents confirm', async () => {
    const r = await setup(20, request([10, 50, 100]));
    await at(r, 60);
    const st = await r.engine.act(r.id, 'rollback', 'tok_op', 'bad accuracy reports');
    expect(st.state).toBe('rolled_back');
    expect(st.stages.map((s) => s.state)).toEqual(['rolled_back', 'rolled_back', 'pending']);
    expect(st.counts).toEqual({ rollback_pending: 10, planned: 10 });
    const back = r.delivery.calls.filter((c) => c.what === `rollback:${OLD_BUNDLE}`).flatMap((c) => c.ids);
    expect(back.sort()).toEqual([...r.delivery.told(BUNDLE)].sort());
    const d = back[0]!;
    expect(await r.engine.recordStatus(d, { bundleId: OLD_BUNDLE, from: 'committing', to: 'idle' })).toEqual({
      rolloutId: r.id,
      state: 'rolled_back',
    });
    await at(r, 600);
    expect(r.delivery.told(BUNDLE).size).toBe(10);
  });

  it('every operator action is recorded with who, when and why, here and in the audit trail', async () => {
    const r = await setup(20, request([10, 50, 100], { policy: { advance: 'approval' }, draft: true, reason: 'v2 fixes snow' }));
    const actions = [
      ['start', 'tok_a', 'go'],
      ['pause', 'tok_b', 'lunch'],
      ['resume', 'tok_a', 'back'],
      ['advance', 'tok_c', 'skip the bake'],
      ['abort', 'tok_b', 'wrong bundle'],
      ['rollback', 'tok_a', 'undo the canary'],
    ] as const;
    for (const [i, [action, actor, reason]] of actions.entries()) {
      r.clock.t += 1000;
      await r.engine.act(r.id, action, actor, reason);
      const ev = (await r.engine.events(r.id)).filter((e) => e.kind === action).at(-1)!;
      expect([i, ev.actor, ev.reason, ev.at]).toEqual([i, actor, reason, new Date(r.clock.t).toISOString()]);
    }
    const audit = (await r.store.audit.list({ subject: r.id })).reverse();
    expect(audit.map((a) => [a.action, a.actor, (a.detail as { reason: string }).reason])).toEqual([
      ['rollout.create', 'tok_op', 'v2 fixes snow'],
      ...actions.map(([a, actor, reason]) => [`rollout.${a}`, actor, reason]),
    ]);
    expect((await r.engine.statusOf(r.id)).state).toBe('rolled_back');
  });

  it.each([
    { state: 'running', action: 'resume' },
    { state: 'running', action: 'start' },
    { state: 'completed', action: 'advance' },
    { state: 'completed', action: 'rollback' },
    { state: 'rolled_back', action: 'rollback' },
    { state: 'draft', action: 'advance' },
  ] as const)('refuses $action when $state (ILLEGAL_TRANSITION) and changes nothing', async (c) => {
    const r = await setup(5, request([100], { draft: c.state === 'draft' }));
    if (c.state === 'completed') await at(r, 60);
    if (c.state === 'rolled_back') await r.engine.act(r.id, 'rollback', 'tok', 'x');
    const before = await r.engine.statusOf(r.id);
    expect(before.state).toBe(c.state);
    expect(await failure(r.engine.act(r.id, c.action, 'tok', 'x'))).toEqual({ code: 'ILLEGAL_TRANSITION', status: 409 });
    expect(await r.engine.statusOf(r.id)).toEqual(before);
  });

  it.each([
    { why: 'unknown rollout', run: (r: Rig) => r.engine.act('ro_nope', 'pause', 'tok', 'x'), code: 'ROLLOUT_NOT_FOUND' },
    { why: 'no stages', run: (r: Rig) => r.engine.create(request([]), 'tok'), code: 'INVALID_ROLLOUT' },
    { why: 'bundle and model', run: (r: Rig) => r.engine.create(request([100], { bundle: 'abcdef0123' }), 'tok'), code: 'INVALID_ROLLOUT' },
    { why: 'unknown model', run: (r: Rig) => r.engine.create(request([100], { model: 'missing@1' }), 'tok'), code: 'BUNDLE_NOT_FOUND' },
    {
      why: 'empty target',
      run: (r: Rig) => r.engine.create(request([100], { target: { tags: ['boat'] } }), 'tok'),
      code: 'NO_MATCHING_DEVICES',
    },
  ])('refuses: $why ($code)', async (c) => {
    const r = rig(tmp.open('refuse'));
    r.fleet.add(3);
    expect((await failure(c.run(r)))?.code).toBe(c.code);
    expect(await r.engine.list()).toEqual([]);
  });
});

describe('conflict rule: one active rollout per model per device', () => {
  it('refuses an overlapping rollout of the same model, allows another model, supersedes when asked', async () => {
    const r = await setup(20, request([10, 100]));
    const second = request([100], { target: { deviceIds: ['dev000', 'dev001', 'dev002'] } });
    const refused = await r.engine.create(second, 'tok_b').catch((e: RolloutError) => e);
    expect([(refused as RolloutError).code, ((refused as RolloutError).details as { count: number }).count]).toEqual([
      'ROLLOUT_CONFLICT',
      3,
    ]);
    expect((await r.engine.create({ ...second, model: 'other@1' }, 'tok_b')).state).toBe('running');

    const taken = await r.engine.create({ ...second, supersede: true, reason: 'hotfix' }, 'tok_b');
    expect(taken.state).toBe('running');
    const old = await r.engine.statusOf(r.id);
    expect(old.counts.superseded).toBe(3);
    expect((await r.engine.events(r.id)).at(-1)).toMatchObject({
      kind: 'devices_superseded',
      actor: 'tok_b',
      reason: `superseded by ${taken.id}`,
    });
    expect(await r.store.rollouts.holders('digits', ['dev000', 'dev001', 'dev002'])).toEqual(
      ['dev000', 'dev001', 'dev002'].map((deviceId) => ({ deviceId, rolloutId: taken.id })),
    );
    expect((await r.engine.timeline(r.id, 'dev000')).timeline.at(-1)).toMatchObject({ kind: 'superseded', detail: { by: taken.id } });

    // The old rollout neither judges nor rolls back devices it let go of.
    await r.engine.act(r.id, 'rollback', 'tok_a', 'undo');
    const rolledBack = r.delivery.calls.filter((c) => c.what.startsWith('rollback:')).flatMap((c) => c.ids);
    expect(rolledBack.some((d) => ['dev000', 'dev001', 'dev002'].includes(d))).toBe(false);
    // Once the holder is no longer active, the devices are free again.
    await r.engine.act(taken.id, 'abort', 'tok_b', 'done');
    expect((await r.engine.create(second, 'tok_c')).state).toBe('running');
  });

  it.each([
    { include: true, rows: 20, told: 10 },
    { include: false, rows: 10, told: 5 },
  ])('late joiners (includeLateJoiners=$include) join by the same stable plan', async (c) => {
    const r = await setup(10, request([50, 100], { policy: { includeLateJoiners: c.include } }));
    const before = new Map((await r.store.rollouts.devices(r.id)).map((d) => [d.deviceId, d.stage]));
    r.fleet.add(10);
    await at(r, 1);
    const rows = await r.store.rollouts.devices(r.id);
    expect([rows.length, r.delivery.told(BUNDLE).size]).toEqual([c.rows, c.told]);
    for (const d of rows) if (before.has(d.deviceId)) expect(d.stage).toBe(before.get(d.deviceId));
  });
});

describe('restart', () => {
  const DEVICES = 30;
  async function scenario(restartAfter: number | null) {
    const file = tmp.path(`restart-${restartAfter}.db`);
    let store = tmp.openFile(file);
    const shared = { clock: new FakeClock() };
    let r = rig(store, shared);
    r.fleet.add(DEVICES);
    const fleet = r.fleet;
    const delivery = r.delivery;
    const health = r.health;
    health.override = (q) => ({ reporting: q.deviceIds.length >= 5 ? q.deviceIds.length - 1 : q.deviceIds.length });
    const { id } = await r.engine.create(request([10, 50, 100], { policy: { rate: { devicesPerMinute: 4, rampFactor: 1.5 } } }), 'tok');
    for (let k = 1; k <= 24; k++) {
      if (k === restartAfter) {
        // Throw the engine and the store handle away; a new process opens the same file.
        await store.close();
        store = tmp.openFile(file);
        r = rig(store, { ...shared, fleet, delivery, health });
      }
      shared.clock.advance(30);
      await r.engine.tick();
      if (k === 3)
        await r.engine.recordStatus((await r.store.rollouts.devices(id, { stage: 0 }))[0]!.deviceId, {
          bundleId: BUNDLE,
          from: 'committing',
          to: 'idle',
        });
    }
    const out = {
      calls: delivery.calls,
      status: await r.engine.statusOf(id),
      events: await r.engine.events(id),
      devices: await r.store.rollouts.devices(id),
    };
    await store.close();
    return out;
  }

  it('a new engine on the same SQLite file continues exactly where the old one stopped', async () => {
    const straight = await scenario(null);
    expect(straight.status.state).toBe('completed');
    for (const k of [2, 5, 9]) expect(await scenario(k)).toEqual(straight);
  });
});
