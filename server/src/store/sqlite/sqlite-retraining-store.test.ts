// The SQLite RetrainingStore against the shared contract, on real files (migration 9 through openDb).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contractJob, contractLease, retrainingStoreContract } from '../../retraining/retraining-store-contract.ts';
import { RetrainingPolicy } from '../../retraining/retraining-policy.ts';
import { openDb } from './db.ts';
import { SqliteRetrainingStore } from './sqlite-retraining-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-retraining-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

retrainingStoreContract('sqlite file', async () => {
  const db = openDb(join(dir, `r${n++}.db`));
  return { store: new SqliteRetrainingStore(db), close: async () => void db.close() };
});

describe('SqliteRetrainingStore', () => {
  it('keeps policies and job history across reopen', async () => {
    const path = join(dir, 'reopen.db');
    const a = openDb(path);
    const s = new SqliteRetrainingStore(a);
    await s.putPolicy('__proto__', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'p' } }));
    await s.startJob(contractJob('rt_1', 'digits'), contractLease());
    a.close();
    const b = openDb(path);
    const t = new SqliteRetrainingStore(b);
    expect((await t.getPolicy('__proto__'))?.data.parent).toBe('p');
    expect((await t.listJobs()).map((j) => [j.id, j.status])).toEqual([['rt_1', 'running']]);
    b.close();
  });
});
