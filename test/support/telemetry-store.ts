// A SQLite telemetry store in one file, for monitoring tests that need a real store but not the server.
import { openDb } from '../../server/src/store/sqlite/db.ts';
import { SqliteTelemetryStore } from '../../server/src/store/sqlite/sqlite-telemetry-store.ts';

export function openSqliteTelemetry(path: string): { store: SqliteTelemetryStore; close(): void } {
  const db = openDb(path);
  return { store: new SqliteTelemetryStore(db), close: () => db.close() };
}
