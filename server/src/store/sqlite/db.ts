// Opens a SQLite file with the pragmas a single-writer server wants, and applies migrations.
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { ColumnCodec } from '../../rows/column-codec.ts';
import { MIGRATIONS } from './migrations.ts';

export type { Db };

/** Opens (creating if needed) and migrates the database at `path` (':memory:' for tests). */
export function openDb(path: string): Db {
  const db = new Database(path);
  // WAL lets readers (API) run beside the writer; NORMAL sync is durable across process crashes in WAL mode.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  cacheStatements(db);
  return db;
}

/** Prepared statements kept per connection; SQL built with a varying number of `?` stays well under this. */
const STATEMENT_CACHE = 500;

/**
 * Makes `db.prepare` return the statement already prepared for the same SQL text. The stores prepare at
 * the call site for readability; compiling the same SQL on every call was the largest single cost of a
 * device's status message under the soak (a sixth of the server's CPU). Safe because no store iterates a
 * statement (a cached one could be busy) or changes its mode (`pluck`, `raw`, `expand`).
 */
function cacheStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  db.prepare = ((sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      st = compile(sql);
      // Oldest first out: Map keeps insertion order.
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(sql, st);
    }
    return st;
  }) as Db['prepare'];
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id));
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    })();
  }
}

export const json = (v: unknown): string => JSON.stringify(v ?? null);
export const parse = <T>(s: unknown): T => (s == null ? (null as T) : (JSON.parse(String(s)) as T));
export const now = (): string => new Date().toISOString();

/** SQLite's column types (JSON as text, times as ISO text, booleans as 0/1) for the domains' shared row mappers (../../rows/column-codec.ts). */
export const SQLITE_COLUMNS: ColumnCodec = {
  json: parse,
  time: (v) => v as string,
  timeOrNull: (v) => (v as string) ?? null,
  int: (v) => v as number,
  bool: (v) => v === 1,
};
