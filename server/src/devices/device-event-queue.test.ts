// The write-behind queue for device events against a real SQLite store: events added one by one are written
// in a few transactions, in order; close() writes everything still queued, and a failing store keeps the
// events for the next flush instead of losing them.
import { afterAll, describe, expect, it } from 'vitest';
import { scratch } from '@flotilla/test/support/rollout-test-kit';
import type { DeviceEvent } from '../store/entities.ts';
import { DeviceEventQueue } from './device-event-queue.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

async function fleet(n: number) {
  const store = tmp.open('queue');
  await store.devices.createMany(Array.from({ length: n }, (_, i) => ({ id: `d${i}`, tokenHash: 'h' })));
  return store;
}
const ev = (i: number, devices = 4): Omit<DeviceEvent, 'id'> => ({
  deviceId: `d${i % devices}`,
  at: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
  kind: 'status',
  detail: { i },
});
const indices = (events: DeviceEvent[]) => events.map((e) => (e.detail as { i: number }).i).reverse();

describe('DeviceEventQueue', () => {
  it('writes events added one at a time in a few batched transactions, each device in arrival order', async () => {
    const store = await fleet(4);
    const q = new DeviceEventQueue({ store: store.devices, batchRows: 100 });
    for (let i = 0; i < 400; i++) q.add(ev(i));
    await q.flush();
    expect(q.size).toBe(0);
    expect(q.flushes).toBeLessThanOrEqual(4);
    for (let d = 0; d < 4; d++) {
      expect(indices(await store.devices.events(`d${d}`, 500))).toEqual(Array.from({ length: 100 }, (_, k) => k * 4 + d));
    }
    await store.close();
  });

  it('flushes on its own within its period, and close() writes what is still queued, then late events at once', async () => {
    const store = await fleet(4);
    const q = new DeviceEventQueue({ store: store.devices, flushMs: 10 });
    q.add(ev(0));
    for (let t = 0; t < 200 && (await store.devices.events('d0')).length === 0; t++) await new Promise((r) => setTimeout(r, 10));
    expect(indices(await store.devices.events('d0'))).toEqual([0]);
    // A shutdown right after a burst: nothing queued is lost.
    for (let i = 1; i < 250; i++) q.add(ev(i));
    await q.close();
    const all = (await Promise.all(['d0', 'd1', 'd2', 'd3'].map((d) => store.devices.events(d, 500)))).flat();
    expect(all.map((e) => (e.detail as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    q.add(ev(250));
    await q.flush();
    expect(indices(await store.devices.events('d2', 500)).at(-1)).toBe(250);
    await store.close();
  });

  it('keeps the events of a failed write, in order, and writes them with the next flush', async () => {
    const store = await fleet(4);
    let failures = 1;
    const errors: unknown[] = [];
    const q = new DeviceEventQueue({
      store: {
        addEvents: (events) =>
          failures-- > 0 ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : store.devices.addEvents(events),
      },
      onError: (e) => errors.push(e),
      flushMs: 5,
    });
    for (let i = 0; i < 8; i++) q.add(ev(i));
    await expect(q.flush()).rejects.toThrow('SQLITE_FULL');
    expect(q.size).toBe(8);
    for (let i = 8; i < 12; i++) q.add(ev(i));
    await q.close();
    expect(errors).toHaveLength(1);
    expect(indices(await store.devices.events('d0'))).toEqual([0, 4, 8]);
    expect(indices(await store.devices.events('d3'))).toEqual([3, 7, 11]);
    await store.close();
  });
});
