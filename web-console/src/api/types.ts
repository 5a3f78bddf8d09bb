// The server's entity types, imported as types only: the console shares the API's shapes without sharing code.
export type {
  AliasMove, BundleRecord, DatasetVersion, Device, DeviceEvent, EpochRecord, ModelVersion, Role, Run, Sweep,
} from '../../../server/src/store/entities.ts';
export type { DevicePage } from '../../../server/src/store/store.ts';
export type { DeviceView } from '../../../server/src/devices/device-service.ts';
export type { ComparisonRow } from '../../../server/src/runs/compare-runs.ts';
export type { RunEvent } from '../../../server/src/runs/run-events.ts';
export type {
  Rollout, RolloutDevice, RolloutDeviceDetail, RolloutDeviceState, RolloutEventRecord, RolloutRequestInput, RolloutState,
  RolloutStatus, StageStatus, TimelineEntry, GateVerdict, StageStats,
} from '../../../server/src/rollouts/index.ts';
export type { Alert, AlertChange, AlertFeature } from '../../../server/src/monitoring/alert.ts';
export type { Series, SeriesPoint, Metric } from '../../../server/src/monitoring/series.ts';
export type { StreamStatus } from '../../../server/src/monitoring/drift-detector.ts';
export type { DriftConfig } from '../../../server/src/monitoring/drift-config.ts';
export type { Estimate } from '../../../server/src/monitoring/performance-estimate.ts';
export type { Histogram } from '../../../server/src/monitoring/histogram.ts';

/** A registered model as listed: its newest version and where each alias points. */
export interface ModelSummary {
  name: string;
  latestVersion: number;
  aliases: Record<string, number>;
}

/** One trial of a sweep, ranked by validation accuracy (the server's own type). */
export type { RankedTrial } from '../../../server/src/runs/sweep-service.ts';

/** The wizard's live count: how many devices a target matches and how the stages split them. */
export interface RolloutPreview {
  matching: number;
  online: number;
  stageSizes: number[];
  held: number;
}
export type { QuantizationReport, ParityReport } from '../../../server/src/convert/index.ts';
