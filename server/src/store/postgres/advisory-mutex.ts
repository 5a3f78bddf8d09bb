// A mutex shared by every server process on one PostgreSQL database: a session advisory lock held on
// one pooled connection while the guarded work runs (the work itself uses other connections).
import { lockKey, type Pool } from './pg-db.ts';

export interface Mutex {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Waits for lock `name` (no timeout: holders only run short store-and-publish steps), runs `fn`,
 * unlocks. If the connection drops, PostgreSQL frees the lock; that connection is then discarded,
 * not returned to the pool.
 */
export function advisoryMutex(pool: Pool, name: string): Mutex {
  const key = lockKey(`mutex:${name}`);
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const c = await pool.connect();
      try {
        await c.query('SELECT pg_advisory_lock($1)', [key]);
      } catch (e) {
        c.release(e as Error);
        throw e;
      }
      try {
        return await fn();
      } finally {
        // A connection that cannot unlock is discarded: closing it frees the lock.
        c.release(
          await c.query('SELECT pg_advisory_unlock($1)', [key]).then(
            () => undefined,
            (e: Error) => e,
          ),
        );
      }
    },
  };
}
