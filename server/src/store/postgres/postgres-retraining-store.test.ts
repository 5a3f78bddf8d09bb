// The PostgreSQL RetrainingStore against the shared contract, plus what two server processes on one database
// must see: each other's policies, and one running retrain per model however they race.
import { describe, expect, it } from 'vitest';
import { contractJob, contractLease, retrainingStoreContract } from '../../retraining/retraining-store-contract.ts';
import { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { INTERRUPTED_ABANDONED, RetrainingService } from '../../retraining/retraining-service.ts';
import { createLogger } from '../../log/logger.ts';
import type { Pool } from './pg-db.ts';
import { PostgresRetrainingStore } from './postgres-retraining-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('PostgresRetrainingStore', () => {
  retrainingStoreContract('postgres', async () => {
    const pool = pg.pool(await pg.db('retraining'));
    return { store: await PostgresRetrainingStore.open(pool), close: () => pool.end() };
  });

  it("two processes racing to start the same model's retrain start exactly one, and see each other's policies", async () => {
    const url = await pg.db('retraining');
    const [a, b] = await Promise.all([PostgresRetrainingStore.open(pg.pool(url)), PostgresRetrainingStore.open(pg.pool(url))]);
    await a.putPolicy('digits', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'mnist' } }));
    expect((await b.getPolicy('digits'))?.data.parent).toBe('mnist');
    for (let round = 0; round < 10; round++) {
      const model = `m${round}`;
      const got = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).startJob(contractJob(`rt_${round}_${i}`, model), contractLease(`h${i % 2}`))),
      );
      expect(got.filter((g) => g.started)).toHaveLength(1);
      const winner = got.find((g) => g.started)!.job.id;
      expect(new Set(got.map((g) => g.job.id))).toEqual(new Set([winner]));
      expect((await a.listJobs({ model })).map((j) => j.id)).toEqual([winner]);
    }
  });

  it("two server processes on one database: one running retrain per model, and a dead process's job reads interrupted once its lease runs out", async () => {
    const url = await pg.db('retraining');
    /** A server process's retraining: its own pool; its retrains never get past the champion lookup, so they stay running. */
    const processOn = async (pool: Pool) => {
      const rt = new RetrainingService({
        store: { models: { resolve: () => new Promise(() => undefined) } } as never,
        blobs: null as never,
        samples: null as never,
        runs: null as never,
        conversion: null as never,
        retrainingStore: await PostgresRetrainingStore.open(pool),
        log: createLogger('silent'),
        soleProcess: false,
        jobLeaseMs: 300,
      });
      await rt.recover();
      return rt;
    };
    const poolA = pg.pool(url);
    const [a, b] = await Promise.all([processOn(poolA), processOn(pg.pool(url))]);
    try {
      await a.setPolicy('digits', { trigger: {}, data: { parent: 'mnist' } });
      // Process a runs it; starts racing in both processes get that job back.
      const job = await a.start('digits', 'op');
      const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).start('digits', `op${i}`)));
      expect(new Set(jobs.map((j) => j.id))).toEqual(new Set([job.id]));
      // The holder renews its lease: well past the lease, the other process's sweeps leave the job running.
      await new Promise((r) => setTimeout(r, 1000));
      expect((await b.get(job.id)).status).toBe('running');
      // The holder's process dies (here: its database connections go away, so it renews nothing).
      await poolA.end();
      let seen = await b.get(job.id);
      for (let i = 0; i < 50 && seen.status === 'running'; i++, await new Promise((r) => setTimeout(r, 100))) seen = await b.get(job.id);
      expect(seen).toMatchObject({ status: 'interrupted', error: INTERRUPTED_ABANDONED });
      const next = await b.start('digits', 'op');
      expect(next.id).not.toBe(job.id);
      expect((await b.list({ model: 'digits' })).map((j) => [j.id, j.status])).toEqual([
        [next.id, 'running'],
        [job.id, 'interrupted'],
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
