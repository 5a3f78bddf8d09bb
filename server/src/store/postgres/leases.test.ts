// The PostgreSQL LeaseStore against the contract: two pools on one database stand for two server processes.
import { describe } from 'vitest';
import { leaseStoreContract } from '../lease-contract.ts';
import { PostgresLeaseStore } from './leases.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('PostgresLeaseStore', () => {
  leaseStoreContract('postgres', async () => {
    const url = await pg.db('leases');
    const [pa, pb] = [pg.pool(url), pg.pool(url)];
    const [a, b] = await Promise.all([PostgresLeaseStore.open(pa), PostgresLeaseStore.open(pb)]);
    return { a, b, close: async () => void (await Promise.all([pa.end(), pb.end()])) };
  });
});
