// The SQLite store against the shared Store contract, plus what only a file-backed store can show.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeContract } from '../store-contract.ts';
import { openDb } from './db.ts';
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

  it('prepares each SQL text once per connection: a repeated call gets the compiled statement back, still bound fresh', () => {
    const db = openDb(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
    const insert = 'INSERT INTO t (k, v) VALUES (?, ?)';
    expect(db.prepare(insert)).toBe(db.prepare(insert));
    db.prepare(insert).run('a', 1);
    db.prepare(insert).run('b', 2);
    expect(db.prepare('SELECT v FROM t WHERE k = ?').get('b')).toEqual({ v: 2 });
    expect(db.prepare('SELECT v FROM t WHERE k = ?').get('a')).toEqual({ v: 1 });
    // Bounded: SQL built with a varying number of placeholders cannot grow the cache without limit.
    for (let i = 1; i <= 600; i++) db.prepare(`SELECT ${i} AS n`).get();
    expect(db.prepare(insert)).not.toBe(db.prepare('SELECT 1 AS n'));
    const first = db.prepare('SELECT 1 AS n');
    for (let i = 2; i <= 600; i++) db.prepare(`SELECT ${i} AS n`).get();
    expect(db.prepare('SELECT 1 AS n')).not.toBe(first);
    db.close();
  });
});
