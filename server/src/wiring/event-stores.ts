// Opens the event log and webhook store: the SQLite file `events.db` in the data folder (its own file and
// single writer, like telemetry), or the shared PostgreSQL database when the main store is PostgreSQL.
import { join } from 'node:path';
import type { EventLog } from '../events/event-log.ts';
import type { WebhookStore } from '../events/webhook-store.ts';
import { openDb } from '../store/sqlite/db.ts';
import { SqliteEventLog } from '../store/sqlite/sqlite-event-log.ts';
import { SqliteWebhookStore } from '../store/sqlite/sqlite-webhook-store.ts';
import { isPostgresUri } from './side-stores.ts';

export interface EventStores {
  log: EventLog;
  hooks: WebhookStore;
  close(): Promise<void>;
}

export async function openEventStores(storeUri: string | undefined, dataDir: string): Promise<EventStores> {
  if (isPostgresUri(storeUri)) {
    // Loaded on demand: a SQLite server never loads the PostgreSQL driver.
    const [{ openPool }, { parseStoreUrl }, { PostgresEventLog }, { PostgresWebhookStore }] = await Promise.all([
      import('../store/postgres/pg-db.ts'),
      import('../store/postgres/postgres-store.ts'),
      import('../store/postgres/postgres-event-log.ts'),
      import('../store/postgres/postgres-webhook-store.ts'),
    ]);
    const pool = openPool(parseStoreUrl(storeUri).url, { max: 4 });
    try {
      return { log: await PostgresEventLog.open(pool), hooks: await PostgresWebhookStore.open(pool), close: () => pool.end() };
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }
  const db = openDb(join(dataDir, 'events.db'));
  return { log: new SqliteEventLog(db), hooks: new SqliteWebhookStore(db), close: async () => void db.close() };
}
