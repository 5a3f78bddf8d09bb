// The SQLite store against the shared Store contract, plus what only a file-backed store can show.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeContract } from '../store-contract.ts';
import { openSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite file', async () => openSqliteStore(join(dir, `s${n++}.db`)));

describe('SqliteStore', () => {
  it('keeps data across reopen and does not re-apply migrations', async () => {
    const path = join(dir, 'reopen.db');
    const a = openSqliteStore(path);
    await a.tokens.create({ id: 't', name: 'x', role: 'admin', hash: 'h' });
    await a.close();
    const b = openSqliteStore(path);
    expect((await b.tokens.findByHash('h'))?.id).toBe('t');
    await b.close();
  });
});
