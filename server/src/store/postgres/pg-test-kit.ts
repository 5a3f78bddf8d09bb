// Test helper: one throwaway PostgreSQL cluster per test file (started on first use), a fresh database per call.
// Test files pass `startPostgres` from @flotilla/test/support/postgres (only tests may import test helpers).
import { afterAll } from 'vitest';
import type { Store } from '../store.ts';
import { openPool, type Pool } from './pg-db.ts';

interface Cluster {
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Registers cleanup; `db()` gives a fresh database's URL, `pool()` a pool on it, closed after the file. */
export function pgScratch(start: () => Promise<Cluster>) {
  let cluster: Promise<Cluster> | null = null;
  const pools: Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => (p.ended ? undefined : p.end().catch(() => undefined))));
    if (cluster) await (await cluster).stop();
  });
  const db = async (prefix = 'flotilla') => (await (cluster ??= start())).createDatabase(prefix);
  const pool = (url: string, max?: number): Pool => {
    const p = openPool(url, { max });
    pools.push(p);
    return p;
  };
  return { db, pool };
}

/** Runs `fn` on stores that are closed afterwards, whatever happens. */
export async function withStores(stores: Store[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}
