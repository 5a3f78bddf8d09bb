// Chooses a Store implementation from a URI: `sqlite:PATH` (the default) or `postgres://` / `postgresql://`.
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';

/** The SQLite metadata file `uri` names (`<dataDir>/flotilla.db` when none), or null when it names another engine. */
export function sqliteStorePath(uri: string | undefined, dataDir: string): string | null {
  if (!uri || uri === 'sqlite') return join(dataDir, 'flotilla.db');
  return uri.startsWith('sqlite:') ? uri.slice('sqlite:'.length) : null;
}

/** Opens the store named by `uri`, or the SQLite file `<dataDir>/flotilla.db` when none is given. */
export async function openStore(uri: string | undefined, dataDir: string): Promise<Store> {
  const sqlite = sqliteStorePath(uri, dataDir);
  if (sqlite) return openSqliteStore(sqlite);
  if (!uri) throw new Error('unreachable: no store URI is SQLite');
  if (uri.startsWith('postgres://') || uri.startsWith('postgresql://')) {
    // Loaded on demand: a SQLite server never loads the PostgreSQL driver.
    const { openPostgresStore } = await import('../store/postgres/postgres-store.ts');
    return openPostgresStore(uri);
  }
  throw new Error(`unsupported store '${uri}': use sqlite:PATH or postgres://user:pass@host:port/db`);
}
