// SqliteStore: the default Store, one SQLite file (better-sqlite3 v12) under the data folder.
import type { Store } from '../store.ts';
import { SqliteBundleStore } from './bundles.ts';
import { openDb } from './db.ts';
import { SqliteDatasetStore } from './datasets.ts';
import { SqliteDeviceStore } from './devices.ts';
import { SqliteEnrollmentStore } from './enrollments.ts';
import { SqliteModelStore } from './models.ts';
import { SqliteRunStore } from './runs.ts';
import { SqliteAuditStore, SqliteSweepStore } from './sweeps-audit.ts';
import { SqliteTokenStore } from './tokens.ts';
import { SqliteRolloutStore } from './sqlite-rollout-store.ts';

/** Opens the SQLite store at `path` (':memory:' for tests). */
export function openSqliteStore(path: string): Store {
  const db = openDb(path);
  const devices = new SqliteDeviceStore(db);
  return {
    kind: 'sqlite',
    tokens: new SqliteTokenStore(db),
    datasets: new SqliteDatasetStore(db),
    runs: new SqliteRunStore(db),
    models: new SqliteModelStore(db),
    sweeps: new SqliteSweepStore(db),
    audit: new SqliteAuditStore(db),
    devices,
    enrollments: new SqliteEnrollmentStore(db, devices),
    bundles: new SqliteBundleStore(db),
    rollouts: new SqliteRolloutStore(db),
    async close() {
      db.close();
    },
  };
}
