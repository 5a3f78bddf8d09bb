// [WIRE-2.2.2] Maintenance windows on the device's wall clock: days, windows crossing midnight, DST edges
// in both directions, the next opening, and the policy's bounds (bad windows and zones are refused).
import { describe, expect, it } from 'vitest';
import { isTimeZone, localTime, nextWindowOpen, UpdatePolicy, windowsOpen, type UpdatePolicy as Policy } from './update-policy.ts';

const at = (iso: string) => Date.parse(iso);
const policy = (p: Policy) => UpdatePolicy.parse(p);

describe('maintenance windows', () => {
  it('opens on the named days between start and end, in the device zone', () => {
    // 2026-12-07 is a Monday. 22:00–23:30 in Berlin (UTC+1 in winter).
    const p = policy({ windows: [{ days: ['mon'], start: '22:00', end: '23:30' }], timeZone: 'Europe/Berlin' });
    expect(windowsOpen(p, at('2026-12-07T20:59:00Z'))).toBe(false);
    expect(windowsOpen(p, at('2026-12-07T21:00:00Z'))).toBe(true);
    expect(windowsOpen(p, at('2026-12-07T22:29:59Z'))).toBe(true);
    expect(windowsOpen(p, at('2026-12-07T22:30:00Z'))).toBe(false);
    // Same wall-clock time on Tuesday: not a window day.
    expect(windowsOpen(p, at('2026-12-08T21:00:00Z'))).toBe(false);
    // The same instant is 21:00 in UTC: outside a UTC window with those times.
    expect(windowsOpen({ ...p, timeZone: 'UTC' }, at('2026-12-07T21:00:00Z'))).toBe(false);
  });

  it('crosses midnight: a window starting on Friday night runs into Saturday morning, and not from Thursday', () => {
    const p = policy({ windows: [{ days: ['fri'], start: '22:00', end: '04:00' }], timeZone: 'America/New_York' });
    // Friday 2026-12-11 23:00 EST = Sat 04:00Z; Saturday 03:59 EST = 08:59Z; Saturday 04:00 EST closed.
    expect(windowsOpen(p, at('2026-12-12T04:00:00Z'))).toBe(true);
    expect(windowsOpen(p, at('2026-12-12T08:59:00Z'))).toBe(true);
    expect(windowsOpen(p, at('2026-12-12T09:00:00Z'))).toBe(false);
    // Friday 03:00 EST belongs to Thursday night's window, which is not listed.
    expect(windowsOpen(p, at('2026-12-11T08:00:00Z'))).toBe(false);
  });

  it('follows DST: a window inside the skipped spring hour does not open; a fall-back hour is open twice', () => {
    // Europe/Berlin springs forward on 2026-03-29 at 02:00 → 03:00.
    const gap = policy({ windows: [{ days: ['sun'], start: '02:00', end: '02:59' }], timeZone: 'Europe/Berlin' });
    for (let m = 0; m < 120; m += 5) expect(windowsOpen(gap, at('2026-03-29T00:00:00Z') + m * 60_000)).toBe(false);
    // 03:00–04:00 local on that day is 01:00–02:00Z (UTC+2 from 03:00 on).
    const after = policy({ windows: [{ days: ['sun'], start: '03:00', end: '04:00' }], timeZone: 'Europe/Berlin' });
    expect(windowsOpen(after, at('2026-03-29T00:59:00Z'))).toBe(false);
    expect(windowsOpen(after, at('2026-03-29T01:00:00Z'))).toBe(true);
    expect(windowsOpen(after, at('2026-03-29T02:00:00Z'))).toBe(false);
    // Falls back on 2026-10-25 at 03:00 → 02:00: 02:00–03:00 local happens twice, 00:00Z to 02:00Z.
    const twice = policy({ windows: [{ days: ['sun'], start: '02:00', end: '03:00' }], timeZone: 'Europe/Berlin' });
    expect(windowsOpen(twice, at('2026-10-24T23:59:00Z'))).toBe(false);
    expect(windowsOpen(twice, at('2026-10-25T00:30:00Z'))).toBe(true);
    expect(windowsOpen(twice, at('2026-10-25T01:30:00Z'))).toBe(true);
    expect(windowsOpen(twice, at('2026-10-25T02:00:00Z'))).toBe(false);
  });

  it('tells when the windows next open, across DST changes and days', () => {
    const p = policy({ windows: [{ days: ['sun'], start: '03:00', end: '04:00' }], timeZone: 'Europe/Berlin' });
    expect(new Date(nextWindowOpen(p, at('2026-03-28T12:00:00Z'))!).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(new Date(nextWindowOpen(p, at('2026-10-24T12:00:00Z'))!).toISOString()).toBe('2026-10-25T02:00:00.000Z');
    // Inside a window: the next one is a week later.
    expect(new Date(nextWindowOpen(p, at('2026-12-06T02:30:00Z'))!).toISOString()).toBe('2026-12-13T02:00:00.000Z');
    // The skipped hour never opens: the next opening is the Sunday after.
    const gap = policy({ windows: [{ days: ['sun'], start: '02:30', end: '02:45' }], timeZone: 'Europe/Berlin' });
    expect(new Date(nextWindowOpen(gap, at('2026-03-28T12:00:00Z'))!).toISOString()).toBe('2026-04-05T00:30:00.000Z');
    expect(nextWindowOpen(undefined, 0)).toBeNull();
    expect(windowsOpen(undefined, 0)).toBe(true);
  });

  it('reads the wall clock with Intl in any IANA zone', () => {
    expect(localTime(at('2026-12-07T21:30:00Z'), 'Asia/Kolkata')).toMatchObject({ weekday: 'tue', minute: 3 * 60, day: 8 });
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('policy bounds', () => {
  const issues = (p: unknown) => {
    const r = UpdatePolicy.safeParse(p);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('refuses bad windows, unknown zones, unknown fields and oversized lists', () => {
    expect(issues({ windows: [{ days: ['mon'], start: '25:00', end: '04:00' }] })).toEqual([
      'windows.0.start: a time is HH:MM, 00:00 to 23:59',
    ]);
    expect(issues({ windows: [{ days: ['mon'], start: '4:00', end: '05:00' }] })[0]).toMatch(/HH:MM/);
    expect(issues({ windows: [{ days: ['funday'], start: '04:00', end: '05:00' }] })[0]).toMatch(/^windows\.0\.days\.0/);
    expect(issues({ windows: [{ days: [], start: '04:00', end: '05:00' }] })[0]).toMatch(/at least one day/);
    expect(issues({ windows: [{ days: ['mon'], start: '04:00', end: '04:00' }] })[0]).toMatch(/equal/);
    expect(issues({ timeZone: 'Mars/Olympus_Mons' })[0]).toMatch(/IANA/);
    expect(issues({ urgent: true, surprise: 1 })[0]).toMatch(/surprise|unrecognized/i);
    expect(issues({ windows: Array(33).fill({ days: ['mon'], start: '01:00', end: '02:00' }) })[0]).toMatch(/windows/);
    expect(issues({ maxLockHoldSec: 8 * 86_400 })[0]).toMatch(/maxLockHoldSec/);
    expect(issues({ conditions: { minBatteryPct: 120 } })[0]).toMatch(/minBatteryPct/);
    expect(
      issues({
        windows: [{ days: ['sat', 'sun'], start: '22:00', end: '04:00' }],
        timeZone: 'UTC',
        urgent: false,
        maxLockHoldSec: 60,
        conditions: { unmetered: true },
      }),
    ).toEqual([]);
  });
});
