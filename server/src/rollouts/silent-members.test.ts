// The server's deadline on a notified device's first status event, on a real SQLite store: a device that
// never reports is marked stalled on a tick (no report needed), its next report clears it, and a sweep of
// 10,000 silent members reads the rollout's rows once and writes one transaction.
import { afterAll, expect, it } from 'vitest';
import { bundleRef, request, rig, scratch } from '@flotilla/test/support/rollout-test-kit';
import type { RolloutStore } from './rollout-store.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());
const BUNDLE = bundleRef().id;
const SILENT = 120;

/** The store, with a count of the calls made to each method. */
function counted(store: RolloutStore): { store: RolloutStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return v.apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

it('marks a notified device that never reports stalled once the deadline passes, and clears it when it reports', async () => {
  const r = rig(tmp.open('silent'), {}, { silentSec: SILENT });
  const [quiet, talker] = r.fleet.add(2);
  const { id } = await r.engine.create(request([100], { stages: [{ percent: 100, bakeSec: 3600 }] }), 'tok_op');
  expect((await r.engine.statusOf(id)).counts).toEqual({ notified: 2 });
  await r.engine.recordStatus(talker!, { bundleId: BUNDLE, from: 'idle', to: 'downloading', event: 'start' });
  // Just before the deadline nothing changes; at it, the silent one is stalled by the tick alone.
  r.clock.advance(SILENT - 1);
  await r.engine.tick();
  expect((await r.engine.statusOf(id)).counts).toEqual({ notified: 1, downloading: 1 });
  r.clock.advance(1);
  await r.engine.tick();
  const status = await r.engine.statusOf(id);
  expect(status.counts).toEqual({ stalled: 1, downloading: 1 });
  expect(status.stages[0]!.counts).toEqual({ stalled: 1, downloading: 1 });
  const timeline = (await r.engine.timeline(id, quiet!)).timeline;
  expect(timeline.at(-1)).toMatchObject({ kind: 'silent', state: 'stalled', detail: { source: 'server' } });
  expect((timeline.at(-1)!.detail as { reason: string }).reason).toMatch(/no status event 120s after it was notified/);
  const events = await r.engine.events(id);
  expect(events.filter((e) => e.kind === 'devices_silent')).toMatchObject([{ detail: { count: 1, devices: [quiet] } }]);
  // Once stalled it is not marked again on later ticks.
  r.clock.advance(SILENT * 3);
  await r.engine.tick();
  expect((await r.engine.events(id)).filter((e) => e.kind === 'devices_silent')).toHaveLength(1);
  // Its first report moves it on, as any status event would.
  expect(await r.engine.recordStatus(quiet!, { bundleId: BUNDLE, from: 'idle', to: 'downloading', event: 'start' })).toEqual({
    rolloutId: id,
    state: 'downloading',
  });
  expect((await r.engine.statusOf(id)).counts).toEqual({ downloading: 2 });
});

it('counts the deadline from notification: devices told later are judged later', async () => {
  const r = rig(tmp.open('silent-stages'), {}, { silentSec: SILENT });
  r.fleet.add(10);
  const { id } = await r.engine.create(
    request([], {
      stages: [
        { percent: 50, bakeSec: 60, gates: { minReporting: 0 } },
        { percent: 100, bakeSec: 3600 },
      ],
    }),
    'tok_op',
  );
  // Stage 0's five are told at 0 s; the bake passes at 60 s and stage 1's five are told then.
  r.clock.advance(60);
  await r.engine.tick();
  expect((await r.engine.statusOf(id)).counts).toEqual({ notified: 10 });
  r.clock.advance(SILENT - 60);
  await r.engine.tick();
  const s = await r.engine.statusOf(id);
  expect(s.stages[0]!.counts).toEqual({ stalled: 5 });
  expect(s.stages[1]!.counts).toEqual({ notified: 5 });
});

it('is off without silentSec: a silent device stays notified', async () => {
  const r = rig(tmp.open('silent-off'));
  r.fleet.add(1);
  const { id } = await r.engine.create(request([100], { stages: [{ percent: 100, bakeSec: 3600 }] }), 'tok_op');
  r.clock.advance(SILENT * 10);
  await r.engine.tick();
  expect((await r.engine.statusOf(id)).counts).toEqual({ notified: 1 });
});

it('sweeps 10,000 silent members with one read of the rollout and one write', async () => {
  const store = tmp.open('silent-10k');
  const c = counted(store.rollouts);
  const r = rig({ ...store, rollouts: c.store } as typeof store, {}, { silentSec: SILENT });
  r.fleet.add(10_000);
  const { id } = await r.engine.create(
    request([100], { stages: [{ percent: 100, bakeSec: 3600 }], policy: { rate: { devicesPerMinute: 100_000 } } }),
    'tok_op',
  );
  expect((await r.engine.statusOf(id)).counts).toEqual({ notified: 10_000 });
  r.clock.advance(SILENT);
  c.calls.clear();
  const t0 = performance.now();
  await r.engine.tick();
  const ms = performance.now() - t0;
  // The tick's own calls: the list of running rollouts, this one and its rows, and one write — none per member.
  expect(Object.fromEntries(c.calls)).toEqual({ list: 1, get: 1, devices: 1, write: 1 });
  expect((await r.engine.statusOf(id)).counts).toEqual({ stalled: 10_000 });
  console.log(`silent sweep of 10,000 members: ${ms.toFixed(0)} ms`);
}, 120_000);
