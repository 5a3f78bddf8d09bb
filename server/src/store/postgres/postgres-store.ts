// PostgresStore: every metadata domain in one PostgreSQL database, shared safely by several server processes.
import type { Store } from '../store.ts';
import { PostgresBundleStore } from './bundles.ts';
import { PostgresDatasetStore } from './datasets.ts';
import { PostgresDeviceStore } from './devices.ts';
import { PostgresEnrollmentStore } from './enrollments.ts';
import { METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS } from './migrations.ts';
import { PostgresModelStore } from './models.ts';
import { migrate, openPool, type Pool } from './pg-db.ts';
import { PostgresRolloutStore } from './postgres-rollout-store.ts';
import { PostgresRunStore } from './runs.ts';
import { PostgresAuditStore, PostgresSweepStore } from './sweeps-audit.ts';
import { PostgresTokenStore } from './tokens.ts';

/** Connections per server process when the URL does not say (`?pool_max=N`). */
export const DEFAULT_POOL_MAX = 10;

/**
 * Splits our own `pool_max` parameter off a `postgres://` URL; every other parameter goes to the driver.
 * Throws on a pool size that is not a positive integer.
 */
export function parseStoreUrl(url: string): { url: string; poolMax: number } {
  const u = new URL(url);
  const raw = u.searchParams.get('pool_max');
  // Left untouched without the parameter: re-serialising could re-encode what the driver expects verbatim.
  if (raw === null) return { url, poolMax: DEFAULT_POOL_MAX };
  const poolMax = Number(raw);
  if (!Number.isInteger(poolMax) || poolMax < 1) throw new Error(`pool_max must be a positive integer, got '${raw}'`);
  u.searchParams.delete('pool_max');
  return { url: u.toString(), poolMax };
}

/** Opens the store on `url` (`postgres://user:pass@host:port/db[?pool_max=N]`), migrating it first. */
export async function openPostgresStore(url: string): Promise<Store> {
  const o = parseStoreUrl(url);
  const pool = openPool(o.url, { max: o.poolMax });
  try {
    return await openPostgresStoreOn(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}

/**
 * The store on an open pool (so telemetry, field samples and leases can share it), migrated first.
 * The store owns the pool: `close()` ends it.
 */
export async function openPostgresStoreOn(pool: Pool): Promise<Store> {
  await migrate(pool, METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS);
  const rollouts = await PostgresRolloutStore.open(pool);
  return {
    kind: 'postgres',
    tokens: new PostgresTokenStore(pool),
    datasets: new PostgresDatasetStore(pool),
    runs: new PostgresRunStore(pool),
    models: new PostgresModelStore(pool),
    sweeps: new PostgresSweepStore(pool),
    audit: new PostgresAuditStore(pool),
    devices: new PostgresDeviceStore(pool),
    enrollments: new PostgresEnrollmentStore(pool),
    bundles: new PostgresBundleStore(pool),
    rollouts,
    async close() {
      await pool.end();
    },
  };
}
