// Chooses a Store implementation from a URI: `sqlite:PATH` (the default) or `postgres://` / `postgresql://`.
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';

/** Opens the store named by `uri`, or the SQLite file `<dataDir>/flotilla.db` when none is given. */
export async function openStore(uri: string | undefined, dataDir: string): Promise<Store> {
  if (!uri || uri === 'sqlite') return openSqliteStore(join(dataDir, 'flotilla.db'));
  if (uri.startsWith('sqlite:')) return openSqliteStore(uri.slice('sqlite:'.length));
  if (uri.startsWith('postgres://') || uri.startsWith('postgresql://')) {
    // Loaded on demand: a SQLite server never loads the PostgreSQL driver.
    const { openPostgresStore } = await import('../store/postgres/postgres-store.ts');
    return openPostgresStore(uri);
  }
  throw new Error(`unsupported store '${uri}': use sqlite:PATH or postgres://user:pass@host:port/db`);
}
