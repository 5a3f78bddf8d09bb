// Two server "processes" (each its own pool, store, engine, lease gate and ticker) on one PostgreSQL
// database drive one rollout: its first stage is left exactly once and each device is told once.
import { describe, expect, it } from 'vitest';
import { RolloutEngine } from '../../rollouts/rollout-engine.ts';
import { FakeBundles, FakeClock, FakeFleet, RecordingDelivery, request, ScriptedHealth } from '@flotilla/test/support/rollout-test-kit';
import { startRolloutTicker } from '../../rollouts/rollout-ticker.ts';
import { leaseGate, newHolderId } from '../lease.ts';
import { advisoryMutex } from './advisory-mutex.ts';
import { PostgresLeaseStore } from './leases.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';
import { PostgresRolloutStore } from './postgres-rollout-store.ts';

const pg = pgScratch(startPostgres);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Shared world: the fleet, its health and the clock are the same for both processes. */
function world() {
  const fleet = new FakeFleet();
  fleet.add(20);
  return { fleet, health: new ScriptedHealth(), clock: new FakeClock() };
}

async function proc(url: string, w: ReturnType<typeof world>, o: { mutex: boolean; delivery?: RecordingDelivery }) {
  const pool = pg.pool(url);
  const store = await PostgresRolloutStore.open(pool);
  const leases = await PostgresLeaseStore.open(pool);
  const delivery = o.delivery ?? new RecordingDelivery();
  let ticks = 0;
  const engine = new RolloutEngine({
    store,
    devices: w.fleet,
    desired: delivery,
    health: w.health,
    bundles: new FakeBundles(),
    clock: w.clock,
    ...(o.mutex ? { mutex: advisoryMutex(pool, 'rollouts') } : {}),
  });
  const counted = {
    tick: () => {
      ticks++;
      return engine.tick();
    },
  };
  return { pool, store, engine, delivery, leases, counted, ticks: () => ticks };
}

/** Stage 0 (25%) bakes 60 s, stage 1 (100%) bakes an hour, so after one advance the rollout stays put. */
const stages = request([], {
  stages: [
    { percent: 25, bakeSec: 60 },
    { percent: 100, bakeSec: 3600 },
  ],
});

describe.skipIf(postgresMissing())('several server processes on one PostgreSQL database', () => {
  it('only the lease holder ticks; the stage advances once; when it stops, the other takes over', async () => {
    const url = await pg.db('multi');
    const w = world();
    const [a, b] = [await proc(url, w, { mutex: true }), await proc(url, w, { mutex: true })];
    const created = await a.engine.create(stages, 'op');
    w.clock.advance(61);
    // A TTL far above the tick time: a slow tick on a busy machine must not look like a dead holder.
    const gates = [leaseGate(a.leases, 'rollouts', newHolderId(), 3000), leaseGate(b.leases, 'rollouts', newHolderId(), 3000)];
    const ta = startRolloutTicker(a.counted, { intervalMs: 50, lease: gates[0]!.check });
    const tb = startRolloutTicker(b.counted, { intervalMs: 50, lease: gates[1]!.check });
    await until(async () => (await b.store.get(created.id))!.current === 1);
    await sleep(300);
    expect(a.ticks() === 0 || b.ticks() === 0).toBe(true);
    const first = a.ticks() > 0 ? { t: ta, g: gates[0]!, other: b } : { t: tb, g: gates[1]!, other: a };
    const events = await a.store.events(created.id);
    expect(events.filter((e) => e.kind === 'stage_passed')).toHaveLength(1);
    // Every device of both stages was told once, by one process or the other.
    const told = [...a.delivery.calls, ...b.delivery.calls].flatMap((c) => c.ids);
    expect(told).toHaveLength(20);
    expect(new Set(told).size).toBe(20);

    // The holder stops (a shutdown releases; a crash would let the lease expire): the other process ticks next.
    await first.t.stop();
    await first.g.release();
    const before = first.other.ticks();
    await until(async () => first.other.ticks() > before + 2);
    await Promise.all([ta.stop(), tb.stop()]);
    expect((await a.store.events(created.id)).filter((e) => e.kind === 'stage_passed')).toHaveLength(1);
  });

  it('even without the lease, racing ticks of two engines advance once: the advisory mutex serializes them', async () => {
    const url = await pg.db('multi');
    const w = world();
    const [a, b] = [await proc(url, w, { mutex: true }), await proc(url, w, { mutex: true })];
    const created = await a.engine.create(stages, 'op');
    w.clock.advance(61);
    await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).engine.tick()));
    const events = await b.store.events(created.id);
    expect(events.filter((e) => e.kind === 'stage_passed')).toHaveLength(1);
    expect((await b.store.get(created.id))!.current).toBe(1);
    const told = [...a.delivery.calls, ...b.delivery.calls].flatMap((c) => c.ids);
    expect([told.length, new Set(told).size]).toEqual([20, 20]);
  });

  it('without the mutex the same race advances twice (why the engine takes one)', async () => {
    const url = await pg.db('multi');
    const w = world();
    // Both processes' notifications wait for each other, so both ticks are sure to decide on the same read.
    let arrived = 0;
    let bothThere: () => void = () => undefined;
    const met = new Promise<void>((r) => {
      bothThere = r;
    });
    class Meeting extends RecordingDelivery {
      armed = false;
      override async setDesired(...args: Parameters<RecordingDelivery['setDesired']>): Promise<void> {
        await super.setDesired(...args);
        if (!this.armed) return;
        if (++arrived === 2) bothThere();
        await Promise.race([met, sleep(3000)]);
      }
    }
    const [da, db] = [new Meeting(), new Meeting()];
    const [a, b] = [await proc(url, w, { mutex: false, delivery: da }), await proc(url, w, { mutex: false, delivery: db })];
    const created = await a.engine.create(stages, 'op');
    w.clock.advance(61);
    da.armed = db.armed = true;
    await Promise.all([a.engine.tick(), b.engine.tick()]);
    const told = [...a.delivery.calls, ...b.delivery.calls].flatMap((c) => c.ids);
    const passed = (await b.store.events(created.id)).filter((e) => e.kind === 'stage_passed').length;
    expect(passed > 1 || told.length > new Set(told).size).toBe(true);
  });
});
