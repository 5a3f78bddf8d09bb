// Chooses a Store implementation from a URI: `sqlite:PATH` (default) today, `postgres://` later.
import { join } from 'node:path';
import type { Store } from './store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

/** Opens the store named by `uri`, or the SQLite file `<dataDir>/flotilla.db` when none is given. */
export async function openStore(uri: string | undefined, dataDir: string): Promise<Store> {
  if (!uri || uri === 'sqlite') return openSqliteStore(join(dataDir, 'flotilla.db'));
  if (uri.startsWith('sqlite:')) return openSqliteStore(uri.slice('sqlite:'.length));
  throw new Error(`unsupported store '${uri}': use sqlite:PATH (PostgreSQL support is planned)`);
}
