// Opening something that lives in the metadata schema (the event log, webhooks): migrate the schema
// first — a no-op when the metadata store already did — so each may be opened on its own pool.
import { METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS } from './migrations.ts';
import { migrate, type Pool } from './pg-db.ts';

/** `make(pool)` once the metadata schema on `pool` is current. */
export async function onMetadataSchema<T>(pool: Pool, make: (pool: Pool) => T): Promise<T> {
  await migrate(pool, METADATA_MIGRATIONS_TABLE, METADATA_PG_MIGRATIONS);
  return make(pool);
}
