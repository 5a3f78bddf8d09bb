// The PostgreSQL RetrainingStore against the shared contract, plus what two server processes on one database
// must see: each other's policies, and one running retrain per model however they race.
import { describe, expect, it } from 'vitest';
import { contractJob, contractLease, retrainingStoreContract } from '../../retraining/retraining-store-contract.ts';
import { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { PostgresRetrainingStore } from './postgres-retraining-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('PostgresRetrainingStore', () => {
  retrainingStoreContract('postgres', async () => {
    const pool = pg.pool(await pg.db('retraining'));
    return { store: await PostgresRetrainingStore.open(pool), close: () => pool.end() };
  });

  it('two processes racing to start the same model\'s retrain start exactly one, and see each other\'s policies', async () => {
    const url = await pg.db('retraining');
    const [a, b] = await Promise.all([PostgresRetrainingStore.open(pg.pool(url)), PostgresRetrainingStore.open(pg.pool(url))]);
    await a.putPolicy('digits', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'mnist' } }));
    expect((await b.getPolicy('digits'))?.data.parent).toBe('mnist');
    for (let round = 0; round < 10; round++) {
      const model = `m${round}`;
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).startJob(contractJob(`rt_${round}_${i}`, model), contractLease(`h${i % 2}`))));
      expect(got.filter((g) => g.started)).toHaveLength(1);
      const winner = got.find((g) => g.started)!.job.id;
      expect(new Set(got.map((g) => g.job.id))).toEqual(new Set([winner]));
      expect((await a.listJobs({ model })).map((j) => j.id)).toEqual([winner]);
    }
  });
});
