// The PostgreSQL RolloutStore against the shared contract, on a real throwaway cluster.
import { describe, expect, it } from 'vitest';
import { rolloutStoreContract, sampleRollout } from '../../rollouts/rollout-store-contract.ts';
import { PostgresRolloutStore } from './postgres-rollout-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('PostgresRolloutStore', () => {
  rolloutStoreContract('postgres', async () => {
    const pool = pg.pool(await pg.db('rollouts'));
    return { store: await PostgresRolloutStore.open(pool), close: () => pool.end() };
  });

  it('migrates once when two processes open the same database at the same time', async () => {
    const url = await pg.db('rollouts');
    const [a, b] = await Promise.all([PostgresRolloutStore.open(pg.pool(url)), PostgresRolloutStore.open(pg.pool(url))]);
    await a.write({ rollout: sampleRollout('ro_1') });
    expect((await b.get('ro_1'))?.state).toBe('running');
  });

  it('keeps a status reason with a NUL character', async () => {
    const s = await PostgresRolloutStore.open(pg.pool(await pg.db('rollouts')));
    const at = '2026-03-01T00:00:00.000Z';
    await s.write({
      rollout: sampleRollout('ro_1'),
      addDevices: [
        {
          device: {
            rolloutId: 'ro_1',
            deviceId: 'a',
            stage: 0,
            hash: 0.1,
            state: 'planned',
            previousBundleId: null,
            notifiedAt: null,
            updatedAt: at,
          },
          entry: { at, kind: 'planned', state: 'planned' },
        },
      ],
    });
    await s.write({
      changes: [
        {
          rolloutId: 'ro_1',
          deviceId: 'a',
          state: 'failed',
          entry: { at, kind: 'status', state: 'failed', detail: { reason: 'bad\u0000byte' } },
        },
      ],
    });
    expect((await s.device('ro_1', 'a'))!.timeline.at(-1)!.detail).toEqual({ reason: 'bad\u0000byte' });
  });
});
