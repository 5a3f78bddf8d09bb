// PostgreSQL connection pool and migration runner shared by every PostgreSQL-backed store
// (metadata, rollouts, telemetry, field samples). Several server processes may start at once on one
// database, so migrations run under a transaction-scoped advisory lock.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PgMigration {
  id: number;
  name: string;
  sql: string;
}

/** Opens a pool on `url` (`postgres://user:pass@host:port/db`). */
export function openPool(url: string, o: { max?: number } = {}): Pool {
  const pool = new pg.Pool({ connectionString: url, max: o.max ?? 10 });
  // An idle client losing its connection (server restart) emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Stable 31-bit key for an advisory lock named `name` (FNV-1a; collisions only serialize, never corrupt). */
export function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff;
}

/** Runs `fn` in a transaction on one client; rolls back on throw. */
export async function withTx<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/**
 * Applies the migrations of one domain (`table` names its bookkeeping table, so domains migrate
 * independently). Serialized across processes by an advisory lock held for the transaction.
 */
export async function migrate(pool: Pool, table: string, migrations: readonly PgMigration[]): Promise<void> {
  await withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`migrate:${table}`)]);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const applied = new Set((await c.query<{ id: number }>(`SELECT id FROM ${table}`)).rows.map((r) => r.id));
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [m.id, m.name]);
    }
  });
}
