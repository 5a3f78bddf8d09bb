// openStore chooses the engine from the URI; the PostgreSQL case needs a cluster (see docs/postgres.md).
import { describe, expect, it } from 'vitest';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS } from '../store/postgres/migrations.ts';
import { openPool } from '../store/postgres/pg-db.ts';
import { pgScratch, withStores } from '../store/postgres/pg-test-kit.ts';
import { openStore } from './open-store.ts';

const pg = pgScratch(startPostgres);

describe.skipIf(postgresMissing())('openStore on PostgreSQL', () => {
  it('opens from a postgres:// or postgresql:// URI, keeps data across reopen and does not re-run migrations', async () => {
    const url = await pg.db('reopen');
    const a = await openStore(`${url}?pool_max=2`, '/nonexistent');
    expect(a.kind).toBe('postgres');
    await a.tokens.create({ id: 't', name: 'x', role: 'admin', hash: 'h' });
    await a.close();
    const check = openPool(url);
    const applied = async () => (await check.query(`SELECT id, applied_at FROM ${METADATA_MIGRATIONS_TABLE} ORDER BY id`)).rows;
    const before = await applied();
    const b = await openStore(url.replace(/^postgres:/, 'postgresql:'), '/nonexistent');
    await withStores([b], async () => {
      expect((await b.tokens.findByHash('h'))?.id).toBe('t');
      expect(await applied()).toEqual(before);
      // Every metadata migration ran once, on the first open only (ids run in list order; the table lists them by id).
      expect(before.map((r) => r.id)).toEqual(METADATA_PG_MIGRATIONS.map((m) => m.id).sort((x, y) => x - y));
    });
    await check.end();
  });
});
