// The device-event retention sweep runs on its cadence for the life of the process, not only at start: an
// event that ages past the limit after the first sweep is gone after a later one, and young events stay.
import { afterAll, expect, it } from 'vitest';
import { scratch } from '@flotilla/test/support/rollout-test-kit';
import { createLogger } from '../log/logger.ts';
import { DeviceEventRetention } from './device-event-retention.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

it('sweeps on a cadence: events that age past the limit later are deleted by a later sweep, in slices', async () => {
  const store = tmp.open('retention');
  await store.devices.createMany([{ id: 'a', tokenHash: 'h' }]);
  let now = Date.parse('2026-02-01T00:00:00.000Z');
  const day = 86_400_000;
  const iso = (t: number) => new Date(t).toISOString();
  // 2,500 events 40 days old (more than one slice of 1,000), and one young one.
  await store.devices.addEvents(
    Array.from({ length: 2500 }, (_, i) => ({ deviceId: `old${i}`, at: iso(now - 40 * day + i), kind: 'k', detail: null })),
  );
  await store.devices.addEvents([{ deviceId: 'a', at: iso(now - day), kind: 'young', detail: null }]);
  const r = new DeviceEventRetention({ store: store.devices, maxAgeMs: 30 * day, log: createLogger('silent'), now: () => now });
  r.start(20);
  const sweepsAfter = async (n: number) => {
    for (let t = 0; t < 500 && r.sweeps < n; t++) await new Promise((res) => setTimeout(res, 10));
    expect(r.sweeps).toBeGreaterThanOrEqual(n);
  };
  await sweepsAfter(1);
  expect((await store.devices.events('old0')).length).toBe(0);
  expect((await store.devices.events('old2499')).length).toBe(0);
  expect((await store.devices.events('a')).map((e) => e.kind)).toEqual(['young']);
  // Time passes while the process runs: the young event ages past 30 days and a later sweep takes it.
  now += 30 * day;
  const seen = r.sweeps;
  await sweepsAfter(seen + 2);
  expect(await store.devices.events('a')).toEqual([]);
  await r.stop();
  const stopped = r.sweeps;
  await new Promise((res) => setTimeout(res, 80));
  expect(r.sweeps).toBe(stopped);
  await store.close();
});
