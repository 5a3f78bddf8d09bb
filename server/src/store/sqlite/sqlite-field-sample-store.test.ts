// The SQLite FieldSampleStore against the shared contract, on real files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openDb } from './db.ts';
import { fieldSampleStoreContract } from '../../retraining/field-sample-store-contract.ts';
import { SqliteFieldSampleStore } from './sqlite-field-sample-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-samples-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

fieldSampleStoreContract('sqlite file', async () => {
  const db = openDb(join(dir, `s${n++}.db`));
  return { store: new SqliteFieldSampleStore(db), close: async () => void db.close() };
});
