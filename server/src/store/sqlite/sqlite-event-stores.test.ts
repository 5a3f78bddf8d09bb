// The SQLite EventLog and WebhookStore against the shared contract, on real files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { eventStoresContract, type EventStores } from '../../events/event-log-contract.ts';
import { openDb } from './db.ts';
import { SqliteEventLog } from './sqlite-event-log.ts';
import { SqliteWebhookStore } from './sqlite-webhook-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-events-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const paths = new WeakMap<EventStores, string>();

function openAt(path: string): EventStores {
  const db = openDb(path);
  const s: EventStores = { log: new SqliteEventLog(db), hooks: new SqliteWebhookStore(db), close: async () => void db.close() };
  paths.set(s, path);
  return s;
}

eventStoresContract(
  'sqlite file',
  async () => openAt(join(dir, `e${n++}.db`)),
  async (first) => {
    await first.close();
    return openAt(paths.get(first)!);
  },
);
