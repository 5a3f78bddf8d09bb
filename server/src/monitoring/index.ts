// Monitoring: telemetry storage and rollups, drift detection, performance estimates, alerts (HTTP: api/routes/monitoring.ts).
export type { Alert, AlertChange, AlertChangeType, AlertFeature, AlertSeverity, AlertState, DriftLevel } from './alert.ts';
export { DEFAULT_DRIFT_CONFIG, resolveDriftConfig, type DriftConfig } from './drift-config.ts';
export { deviceSetHealth, type DeviceSetHealth } from './device-set-health.ts';
export {
  CONFIDENCE_STREAM,
  DriftDetector,
  PREDICTION_STREAM,
  type DetectorWindow,
  type DriftIssue,
  type StreamStatus,
} from './drift-detector.ts';
export {
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  DEFAULT_MIN_EXPECTED,
  DEFAULT_PSI_EPSILON,
  jensenShannon,
  psi,
  type DriftScores,
} from './drift-metrics.ts';
export { benjaminiHochberg } from './false-discovery.ts';
export { modelKey, referenceFromManifest, validateReference, type ModelReference } from './model-reference.ts';
export { MonitoringError, type MonitoringErrorCode } from './monitoring-error.ts';
export type { WindowEvent } from './monitoring-events.ts';
export {
  DEFAULT_COHORT,
  DEFAULT_RETENTION,
  MonitoringService,
  type IngestItem,
  type IngestResult,
  type MonitoringOptions,
  type MonitoringStats,
  type RetentionConfig,
  type SeriesQuery,
} from './monitoring-service.ts';
export { estimatedAccuracy, fieldAccuracy, wilsonInterval, type Estimate } from './performance-estimate.ts';
export { BUCKETS, METRICS, type Bucket, type Metric, type Series, type SeriesPoint } from './series.ts';
export type { AlertFilter, PruneResult, RollupQuery, StoredWindow, TelemetryStore, WindowRecord } from './telemetry-store.ts';
export type { FeatureIssueReason, WindowRejectReason } from './window-check.ts';
