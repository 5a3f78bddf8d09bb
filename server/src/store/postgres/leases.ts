// Usage: `const leases = await PostgresLeaseStore.open(pool)` (runs LEASE_PG_MIGRATIONS under 'lease_migrations').
// Leases in PostgreSQL: one row per lease; the database's clock decides expiry, so process clocks may differ.
import type { LeaseStore } from '../lease.ts';
import { migrate, type PgMigration, type Pool } from './pg-db.ts';

export const LEASE_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 1,
    name: 'leases',
    sql: 'CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL)',
  },
];

export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly pool: Pool) {}

  /** Migrates the leases table and returns a store on `pool`. */
  static async open(pool: Pool): Promise<PostgresLeaseStore> {
    await migrate(pool, 'lease_migrations', LEASE_PG_MIGRATIONS);
    return new PostgresLeaseStore(pool);
  }

  /**
   * One statement, so racing processes serialize on the row: the upsert changes the row only when it has
   * expired or is this holder's, and RETURNING says whether it did. `acquired_at` moves only on a handover.
   */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO leases (name, holder, expires_at, acquired_at)
        VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond', clock_timestamp())
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
          acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END
        WHERE leases.expires_at <= clock_timestamp() OR leases.holder = excluded.holder
        RETURNING holder`,
      [name, holder, ttlMs],
    );
    return rowCount === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }
}
