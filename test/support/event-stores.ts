// Test kit: a real SQLite event log and webhook store on one file, for domain tests in server/src/events/
// (a domain may not import a store engine itself; the test side composes one here).
import { openDb } from '../../server/src/store/sqlite/db.ts';
import { SqliteEventLog } from '../../server/src/store/sqlite/sqlite-event-log.ts';
import { SqliteWebhookStore } from '../../server/src/store/sqlite/sqlite-webhook-store.ts';
import type { EventLog } from '../../server/src/events/event-log.ts';
import type { WebhookStore } from '../../server/src/events/webhook-store.ts';

export function openSqliteEventStores(path: string): { log: EventLog; hooks: WebhookStore; close(): void } {
  const db = openDb(path);
  return { log: new SqliteEventLog(db), hooks: new SqliteWebhookStore(db), close: () => db.close() };
}
