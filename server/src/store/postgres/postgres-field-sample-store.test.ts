// The PostgreSQL FieldSampleStore against the shared contract, plus two processes storing the same samples at once.
import { describe, expect, it } from 'vitest';
import { contractSample, fieldSampleStoreContract } from '../../retraining/field-sample-store-contract.ts';
import { PostgresFieldSampleStore } from './postgres-field-sample-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('PostgresFieldSampleStore', () => {
  fieldSampleStoreContract('postgres', async () => {
    const pool = pg.pool(await pg.db('samples'));
    return { store: await PostgresFieldSampleStore.open(pool), close: () => pool.end() };
  });

  it('two processes storing overlapping batches at once insert each sample once', async () => {
    const url = await pg.db('samples');
    const [a, b] = await Promise.all([PostgresFieldSampleStore.open(pg.pool(url)), PostgresFieldSampleStore.open(pg.pool(url))]);
    const rows = Array.from({ length: 200 }, (_, i) => contractSample(`cam-${i % 7}`, i));
    const batches = (xs: typeof rows, size: number) =>
      Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));
    const counts = await Promise.all([
      ...batches(rows, 30).map((x) => a.insertMany(x)),
      ...batches([...rows].reverse(), 45).map((x) => b.insertMany(x)),
    ]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(200);
    expect(await b.countLabelled({})).toBe(200);
  });
});
