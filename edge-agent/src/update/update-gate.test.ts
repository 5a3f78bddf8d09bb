// The update gate on a fake clock: download conditions, the activation's window, conditions and lock,
// urgency, the lock's maximum hold counted from when it first held the update back, and bad app input.
import { describe, expect, it } from 'vitest';
import { UpdateGate } from './update-gate.ts';
import { failureJudge, isTransient } from './retry-policy.ts';

const MON_0230 = Date.parse('2026-12-07T02:30:00Z');
const nightly = { windows: [{ days: ['mon' as const], start: '02:00', end: '04:00' }], timeZone: 'UTC' };

function gate(free: number | null = 1e9) {
  const clock = { ms: MON_0230 };
  return {
    g: new UpdateGate(
      () => clock.ms,
      async () => free,
      50,
    ),
    clock,
  };
}

describe('UpdateGate', () => {
  it('lets everything through without a policy', async () => {
    const { g } = gate();
    g.hold('driving');
    expect(await g.check('download', null)).toBeNull();
    // No policy still means the default maximum hold applies to a held lock.
    expect((await g.check('activation', null))?.kind).toBe('lock');
  });

  it('waits for download conditions the app reports, and says when one was never reported', async () => {
    const { g } = gate(500);
    g.setPolicy({ conditions: { unmetered: true, minBatteryPct: 30, minFreeBytes: 1000 } });
    expect((await g.check('download', null))?.reason).toMatch(/metered link unknown/);
    g.setConditions({ metered: true });
    expect((await g.check('download', null))?.reason).toBe('waiting for an unmetered link');
    g.setConditions({ metered: false, batteryPct: 10 });
    expect((await g.check('download', null))?.reason).toBe('battery below 30%');
    g.setConditions({ batteryPct: 80 });
    // Free storage comes from the agent's own storage when the app does not report it.
    expect((await g.check('download', null))?.reason).toBe('500 bytes free, needs 1000');
    g.setConditions({ freeBytes: 5000 });
    expect(await g.check('download', null)).toBeNull();
    // The link's cost does not matter once the bundle is here.
    g.setConditions({ metered: true });
    expect(await g.check('activation', null)).toBeNull();
  });

  it('activates inside the window, or outside it when urgent; conditions hold even for urgent updates', async () => {
    const { g, clock } = gate();
    g.setPolicy(nightly);
    expect(await g.check('activation', null)).toBeNull();
    clock.ms = MON_0230 + 2 * 3600_000;
    expect(await g.check('activation', null)).toMatchObject({ kind: 'window', until: Date.parse('2026-12-14T02:00:00Z') });
    g.setPolicy({ ...nightly, urgent: true, conditions: { charging: true } });
    expect(await g.check('activation', null)).toMatchObject({ kind: 'condition', reason: expect.stringMatching(/charging unknown/) });
    g.setConditions({ charging: true });
    expect(await g.check('activation', null)).toBeNull();
  });

  it('holds a lock up to maxLockHoldSec from when it first held the update back, even for urgent updates', async () => {
    const { g, clock } = gate();
    g.setPolicy({ ...nightly, urgent: true, maxLockHoldSec: 60 });
    const lock = g.hold('call in progress');
    const first = await g.check('activation', null);
    expect(first).toMatchObject({ kind: 'lock', since: MON_0230, until: MON_0230 + 60_000 });
    clock.ms += 59_000;
    expect(await g.check('activation', first)).toMatchObject({ kind: 'lock', since: MON_0230 });
    clock.ms += 1000;
    expect(await g.check('activation', first)).toBeNull();
    lock.release();
    lock.release();
    expect(g.lockReasons).toEqual([]);
  });

  it('wakes waiters on changes, and refuses what an app must not report', async () => {
    const { g } = gate();
    const ac = new AbortController();
    const woke = g.changed(ac.signal);
    g.setConditions({ idle: true });
    await woke;
    const aborted = g.changed(ac.signal);
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(() => g.setConditions({ batteryPct: 140 })).toThrow(/batteryPct/);
    expect(() => g.setConditions({ wifi: true } as never)).toThrow(/unknown condition 'wifi'/);
    expect(() => g.setConditions({ charging: 'yes' } as never)).toThrow(/charging/);
    expect(() => g.hold('')).toThrow(/1 to 200/);
    for (let i = 0; i < 64; i++) g.hold(`lock ${i}`);
    expect(() => g.hold('one too many')).toThrow(/at most 64/);
  });
});

describe('retry policy', () => {
  it('retries storage and network failures with a growing backoff up to a cap; never what the bundle got wrong', () => {
    expect(isTransient('AGENT_STORAGE_FAILED: ENOSPC')).toBe(true);
    expect(isTransient('AGENT_DOWNLOAD_FAILED: server refused blob x: NOT_FOUND')).toBe(true);
    expect(isTransient('AGENT_DOWNLOAD_FAILED: blob x is larger than the 10 bytes expected')).toBe(false);
    for (const r of ['AGENT_SELF_TEST_FAILED: y', 'BUNDLE_SIGNATURE_INVALID: z', 'AGENT_BUNDLE_MISMATCH: q', 'AGENT_LOOP_GUARD: l'])
      expect(isTransient(r)).toBe(false);
    const judge = failureJudge(() => 1000, { minMs: 100, maxMs: 400, maxAttempts: 4, random: () => 1 });
    expect([0, 1, 2, 3].map((n) => judge('AGENT_STORAGE_FAILED: x', n))).toEqual([
      { permanent: false, retryAt: 1100 },
      { permanent: false, retryAt: 1200 },
      { permanent: false, retryAt: 1400 },
      { permanent: false, retryAt: null },
    ]);
    expect(judge('AGENT_SELF_TEST_FAILED: x', 0)).toEqual({ permanent: true, retryAt: null });
  });
});
