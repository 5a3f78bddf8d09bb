// The PostgreSQL TelemetryStore against the shared contract, plus two "processes" (two pools) ingesting overlapping batches at once.
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../monitoring/rollup.ts';
import { contractWindow, telemetryStoreContract } from '../../monitoring/telemetry-store-contract.ts';
import type { WindowRecord } from '../../monitoring/telemetry-store.ts';
import { PostgresTelemetryStore } from './postgres-telemetry-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);
const H0 = Date.parse('2026-03-01T10:00:00.000Z');

/** Device d<k> sends seqs 1..n, one a minute, cohorts by device; deterministic so the sequential result is known. */
function fleetWindows(devices: number, perDevice: number): WindowRecord[] {
  const out: WindowRecord[] = [];
  for (let k = 0; k < devices; k++) {
    for (let s = 1; s <= perDevice; s++) {
      const t = H0 + (s - 1) * 60_000;
      out.push({
        deviceId: `d${k}`,
        cohorts: [k % 2 ? 'north' : 'south', 'all'],
        window: contractWindow(s, t, { requests: k + s, errors: s % 3, predictions: [k, s] }),
        receivedAt: t + 61_000,
      });
    }
  }
  return out;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const a = [...xs];
  let x = seed;
  for (let i = a.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe.skipIf(postgresMissing())('PostgresTelemetryStore', () => {
  telemetryStoreContract('postgres', async () => {
    const pool = pg.pool(await pg.db('telemetry'));
    return { store: await PostgresTelemetryStore.open(pool), close: () => pool.end() };
  });

  it('a batch is one transaction: a row PostgreSQL refuses leaves nothing of the batch behind', async () => {
    const s = await PostgresTelemetryStore.open(pg.pool(await pg.db('telemetry')));
    const bad = { ...contractWindow(2, H0), start: 'not a time' };
    await expect(
      s.insertWindows([
        { deviceId: 'd1', cohorts: ['c'], window: contractWindow(1, H0), receivedAt: H0 },
        { deviceId: 'd1', cohorts: ['c'], window: bad, receivedAt: H0 },
      ]),
    ).rejects.toThrow();
    expect(await s.windows({ deviceId: 'd1' })).toEqual([]);
    expect(await s.rollups({ scope: 'fleet', id: '*', from: 0, to: H0 + HOUR_MS })).toEqual([]);
  });

  it('two processes ingesting overlapping batches at once store every window once, with the sequential rollups', async () => {
    const all = fleetWindows(40, 30);
    const sequential = await PostgresTelemetryStore.open(pg.pool(await pg.db('telemetry')));
    for (let i = 0; i < all.length; i += 50) await sequential.insertWindows(all.slice(i, i + 50));

    const url = await pg.db('telemetry');
    const a = await PostgresTelemetryStore.open(pg.pool(url, 4));
    const b = await PostgresTelemetryStore.open(pg.pool(url, 4));
    // Each process sees every window (a redelivery, or two subscribers), in its own order and batching.
    const feed = async (s: PostgresTelemetryStore, xs: WindowRecord[], size: number) => {
      const fresh: boolean[] = [];
      const batches: Promise<boolean[]>[] = [];
      for (let i = 0; i < xs.length; i += size) batches.push(s.insertWindows(xs.slice(i, i + size)));
      for (const r of await Promise.all(batches)) fresh.push(...r);
      return fresh.filter(Boolean).length;
    };
    const [na, nb] = await Promise.all([feed(a, shuffled(all, 1), 37), feed(b, shuffled(all, 2), 53)]);
    expect(na + nb).toBe(all.length);

    const range = { from: H0, to: H0 + 2 * HOUR_MS };
    for (const q of [
      { scope: 'fleet' as const, id: '*' },
      { scope: 'cohort' as const, id: 'north' },
      { scope: 'cohort' as const, id: 'all' },
      { scope: 'device' as const, id: 'd7' },
    ]) {
      expect(await a.rollups({ ...q, ...range })).toEqual(await sequential.rollups({ ...q, ...range }));
    }
    expect((await a.rollups({ scope: 'fleet', id: '*', ...range }))[0]!.windows).toBe(all.length);
    expect((await b.windows({ deviceId: 'd3', limit: 1000 })).map((w) => w.window.seq)).toEqual(
      Array.from({ length: 30 }, (_, i) => 30 - i),
    );
  });
});
