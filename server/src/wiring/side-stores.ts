// The stores beside the metadata store: telemetry, field samples, leases, retraining policies and jobs, and
// the rollout engine's cross-process mutex. SQLite files in the data folder by default; the shared PostgreSQL database
// (one pool) when the main store is PostgreSQL, so several server processes see the same data.
import { join } from 'node:path';
import { SqliteTelemetryStore } from '../store/sqlite/sqlite-telemetry-store.ts';
import type { TelemetryStore } from '../monitoring/telemetry-store.ts';
import type { FieldSampleStore } from '../retraining/field-sample-store.ts';
import { SqliteFieldSampleStore } from '../store/sqlite/sqlite-field-sample-store.ts';
import { LocalLeaseStore, type LeaseStore } from '../store/lease.ts';
import { openDb } from '../store/sqlite/db.ts';
import type { RetrainingStore } from '../retraining/retraining-store.ts';
import { SqliteRetrainingStore } from '../store/sqlite/sqlite-retraining-store.ts';
import { sqliteStorePath } from './open-store.ts';

export interface SideStores {
  telemetry: TelemetryStore;
  samples: FieldSampleStore;
  leases: LeaseStore;
  /** Retraining policies and jobs, in the metadata database (SQLite: a second connection to its file). */
  retraining: RetrainingStore;
  /** True when no other server process can share these stores (SQLite). */
  soleProcess: boolean;
  /** Serializes rollout engine operations across processes; absent for SQLite (one process). */
  rolloutMutex?: { run<T>(fn: () => Promise<T>): Promise<T> };
  close(): Promise<void>;
}

export const isPostgresUri = (uri: string | undefined): uri is string => !!uri && /^postgres(ql)?:\/\//.test(uri);

export async function openSideStores(storeUri: string | undefined, dataDir: string): Promise<SideStores> {
  if (isPostgresUri(storeUri)) {
    // Loaded on demand: a SQLite server never loads the PostgreSQL driver.
    const [
      { openPool },
      { PostgresTelemetryStore },
      { PostgresFieldSampleStore },
      { PostgresLeaseStore },
      { advisoryMutex },
      { PostgresRetrainingStore },
    ] = await Promise.all([
      import('../store/postgres/pg-db.ts'),
      import('../store/postgres/postgres-telemetry-store.ts'),
      import('../store/postgres/postgres-field-sample-store.ts'),
      import('../store/postgres/leases.ts'),
      import('../store/postgres/advisory-mutex.ts'),
      import('../store/postgres/postgres-retraining-store.ts'),
    ]);
    const pool = openPool(storeUri);
    try {
      return {
        telemetry: await PostgresTelemetryStore.open(pool),
        samples: await PostgresFieldSampleStore.open(pool),
        leases: await PostgresLeaseStore.open(pool),
        retraining: await PostgresRetrainingStore.open(pool),
        soleProcess: false,
        rolloutMutex: advisoryMutex(pool, 'rollouts'),
        close: () => pool.end(),
      };
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }
  // Telemetry has its own SQLite file: it takes most of the write volume, and its store is its only writer.
  // Field samples too: inputs are large and written in bursts.
  const telemetryDb = openDb(join(dataDir, 'telemetry.db'));
  const samplesDb = openDb(join(dataDir, 'field-samples.db'));
  // Policies and jobs are metadata: they live in the metadata file, written rarely (WAL and the busy timeout
  // let this second connection share it with the Store's).
  const metadataDb = openDb(sqliteStorePath(storeUri, dataDir) ?? join(dataDir, 'flotilla.db'));
  return {
    telemetry: new SqliteTelemetryStore(telemetryDb),
    samples: new SqliteFieldSampleStore(samplesDb),
    leases: new LocalLeaseStore(),
    retraining: new SqliteRetrainingStore(metadataDb),
    soleProcess: true,
    async close() {
      telemetryDb.close();
      samplesDb.close();
      metadataDb.close();
    },
  };
}
