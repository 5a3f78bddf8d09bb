// Scheduled rotation on a real SQLite store and the real DeviceService, with a fake clock: nothing is due
// before the period, a fleet that becomes due at once is rotated a share per tick (spread, oldest first,
// through the on-demand path), each device once per period, revoked devices never; `devices show` tells
// the credential's age and next rotation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/log/logger.ts';
import { openSqliteStore } from '../../server/src/store/sqlite/sqlite-store.ts';
import { CredentialKey } from '../../server/src/devices/credential-key.ts';
import { DeviceService } from '../../server/src/devices/device-service.ts';
import { RotationSchedule } from '../../server/src/devices/rotation-schedule.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-rotation-schedule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const MINUTE = 60_000;

describe('scheduled credential rotation', () => {
  it('rotates each device once per period, spread over ticks, oldest first, never a revoked one', async () => {
    const store = openSqliteStore(join(dir, 'a.db'));
    let clock = Date.now();
    const log = createLogger('silent');
    const devices = new DeviceService({
      store,
      log,
      prefix: 'flotilla/v1',
      credentialKey: new CredentialKey(Buffer.alloc(32, 7)),
      now: () => clock,
    });
    const calls: { ids: string[]; overlapMs: number }[] = [];
    const schedule = new RotationSchedule({
      periodMs: 30 * DAY,
      tickMs: MINUTE,
      store: store.devices,
      log,
      now: () => clock,
      rotate: (ids, overlapMs) => {
        calls.push({ ids, overlapMs });
        return devices.rotate({ ids }, 'schedule', overlapMs);
      },
    });
    devices.setRotationSchedule((at) => schedule.nextRotationAt(at));
    // 2,000 devices made at once (the worst case for a schedule), one of them revoked.
    const ids = Array.from({ length: 2000 }, (_, i) => `d-${String(i).padStart(5, '0')}`);
    await devices.provision(
      ids.map((id) => ({ id })),
      'op',
    );
    await devices.revoke('d-00042', 'op');

    expect(await schedule.tick()).toBe(0);
    const shown = await devices.show('d-00001');
    expect(shown.credential).toMatchObject({ generation: 0, ageSec: 0, previousValidUntil: null });
    expect(Date.parse(shown.credential!.nextRotationAt!) - Date.parse(shown.credential!.issuedAt)).toBe(30 * DAY);
    expect((await devices.show('d-00042')).credential?.nextRotationAt).toBeNull();

    // A day before the period ends: still nothing.
    clock += 29 * DAY;
    expect(await schedule.tick()).toBe(0);
    // (The store stamped creation with the real clock, a few seconds after the fake one started.)
    expect((await devices.show('d-00001')).credential?.ageSec).toBeGreaterThan(29 * 86_400 - 120);

    // The whole fleet is due at once, but each tick takes only its share: 1,999 live devices over a
    // quarter of 30 days at one tick a minute is 1 per tick.
    clock += DAY + MINUTE;
    let rotated = 0;
    for (let t = 0; t < 60; t++) {
      rotated += await schedule.tick();
      clock += MINUTE;
    }
    expect(rotated).toBe(60);
    expect(calls.every((c) => c.ids.length === 1)).toBe(true);
    // A day of overlap (the period is longer than four days).
    expect(calls[0]!.overlapMs).toBe(DAY);
    // Oldest first: the same creation time, so by id; the revoked one is skipped.
    expect(calls.map((c) => c.ids[0])).toEqual(ids.filter((id) => id !== 'd-00042').slice(0, 60));
    const after = await devices.show('d-00000');
    expect(after.credential).toMatchObject({ generation: 1, ageSec: 60 * 60 });
    expect(after.credential!.previousValidUntil).not.toBeNull();
    expect(after.credential!.nextRotationAt).toBe(new Date(Date.parse(after.credential!.issuedAt) + 30 * DAY).toISOString());
    expect(after.events.some((e) => e.kind === 'provisioned')).toBe(true);
    expect((await store.audit.list({ limit: 5 })).some((a) => a.actor === 'schedule' && a.action === 'device.rotate')).toBe(true);
    await store.close();
  }, 60_000);

  it('sizes each tick to spread the fleet over a quarter of the period, and never rotates a device twice per period', async () => {
    const store = openSqliteStore(join(dir, 'b.db'));
    let clock = Date.now();
    const log = createLogger('silent');
    const devices = new DeviceService({
      store,
      log,
      prefix: 'flotilla/v1',
      credentialKey: new CredentialKey(Buffer.alloc(32, 9)),
      now: () => clock,
    });
    const perTick: number[] = [];
    // 400 devices, period 100 minutes, a tick a minute: the fleet fits 25 minutes, 16 per tick.
    const schedule = new RotationSchedule({
      periodMs: 100 * MINUTE,
      tickMs: MINUTE,
      store: store.devices,
      log,
      now: () => clock,
      rotate: async (ids, overlapMs) => {
        perTick.push(ids.length);
        return devices.rotate({ ids }, 'schedule', overlapMs);
      },
    });
    expect(schedule.overlapMs).toBe(25 * MINUTE);
    await devices.provision(
      Array.from({ length: 400 }, (_, i) => ({ id: `e-${String(i).padStart(3, '0')}` })),
      'op',
    );
    clock += 100 * MINUTE + 1;
    const total = async (ticks: number) => {
      let n = 0;
      for (let t = 0; t < ticks; t++) {
        n += await schedule.tick();
        clock += MINUTE;
      }
      return n;
    };
    expect(await total(30)).toBe(400);
    expect(Math.max(...perTick)).toBe(16);
    expect(perTick.length).toBe(25);
    // Rotated devices are not due again until a full period after their rotation.
    expect(await total(60)).toBe(0);
    expect(await total(20)).toBeGreaterThan(0);
    expect((await store.devices.credential('e-000'))?.generation).toBe(2);
    await store.close();
  }, 60_000);

  it('refuses a period shorter than a second', () => {
    expect(() => new RotationSchedule({ periodMs: 10, store: null as never, rotate: null as never, log: createLogger('silent') })).toThrow(
      /at least 1000 ms/,
    );
  });
});
