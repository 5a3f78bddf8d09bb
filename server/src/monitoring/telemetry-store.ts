// The TelemetryStore seam: telemetry windows, hourly rollups, drift alerts and model references.
// SQLite by default (store/sqlite/sqlite-telemetry-store.ts); every implementation runs telemetry-store-contract.ts.
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import type { Alert, AlertState } from './alert.ts';
import type { ModelReference } from './model-reference.ts';
import type { Resolution, Rollup, Scope } from './rollup.ts';

/** One window to store, as the monitoring service accepted it. */
export interface WindowRecord {
  deviceId: string;
  /** The device's cohorts (tags) when the window arrived; at least one. */
  cohorts: string[];
  window: TelemetryWindow;
  /** When the server received it, ms since the epoch. */
  receivedAt: number;
}

export interface StoredWindow extends WindowRecord {
  model: string;
}

export interface RollupQuery {
  scope: Scope;
  /** Cohort tag or device id; ignored for the fleet. */
  id: string;
  /** One model (`name@version`); all models when absent. */
  model?: string;
  /** Buckets starting at or after `from` and before `to`, ms since the epoch. */
  from: number;
  to: number;
  /** `minute`: the minute rollups (fleet and cohorts only, kept MINUTE_RETENTION_MS). Default `hour`. */
  resolution?: Resolution;
}

export interface AlertFilter {
  state?: AlertState;
  cohort?: string;
  model?: string;
  /** Newest first; default 100. */
  limit?: number;
}

export interface PruneCut {
  windowsBefore: number;
  rollupsBefore: number;
  minuteRollupsBefore?: number;
  alertsBefore: number;
}

export interface PruneResult {
  windows: number;
  rollups: number;
  alerts: number;
}

export interface TelemetryStore {
  readonly kind: string;
  /**
   * Stores windows in one transaction, each (deviceId, seq) at most once [WIRE-2.5], and adds the new ones
   * to their rollups (`rollupBuckets`: hourly for fleet, each cohort, device; by minute for fleet and cohorts). Returns, per input, whether it was new; a
   * duplicate (stored before, or earlier in the same batch) changes nothing.
   */
  insertWindows(records: readonly WindowRecord[]): Promise<boolean[]>;
  /** Rollups of one scope (hourly, or by minute), ordered by bucket then model. */
  rollups(q: RollupQuery): Promise<Rollup[]>;
  /** Hourly rollups of the listed devices (any number of ids), ordered by device, hour, model. */
  deviceRollups(q: { deviceIds: readonly string[]; model?: string; from: number; to: number }): Promise<Rollup[]>;
  /** One device's stored windows, newest first (default limit 100). */
  windows(q: { deviceId: string; from?: number; to?: number; limit?: number }): Promise<StoredWindow[]>;
  /**
   * Retention: deletes windows that started before `windowsBefore`, rollups of hours before
   * `rollupsBefore`, minute rollups before `minuteRollupsBefore` (when given), and resolved alerts last
   * updated before `alertsBefore` (all ms since the epoch).
   */
  prune(cut: PruneCut): Promise<PruneResult>;
  /** Inserts or replaces an alert by id. */
  putAlert(a: Alert): Promise<void>;
  getAlert(id: string): Promise<Alert | null>;
  listAlerts(f?: AlertFilter): Promise<Alert[]>;
  /** Inserts or replaces the reference of a model version. */
  putReference(model: string, ref: ModelReference): Promise<void>;
  listReferences(): Promise<{ model: string; reference: ModelReference }[]>;
}
