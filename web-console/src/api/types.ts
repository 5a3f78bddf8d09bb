// The API's types, from the server's one face for clients: the console shares the API's shapes without
// sharing code or knowing where inside the server they are defined.
export type {
  AliasMove, Alert, AlertChange, AlertFeature, BundleRecord, ComparisonRow, DatasetVersion, Device, DeviceEvent, DevicePage, DeviceView,
  DriftConfig, EpochRecord, Estimate, GateVerdict, Histogram, Metric, ModelSummary, ModelVersion, ParityReport, QuantizationReport,
  RankedTrial, Role, Rollout, RolloutDevice, RolloutDeviceDetail, RolloutDeviceState, RolloutEventRecord, RolloutPreview,
  RolloutRequestInput, RolloutState, RolloutStatus, Run, RunEvent, Series, SeriesPoint, StageStats, StageStatus, StreamStatus, Sweep,
  TimelineEntry, WebhookAnswer, WebhookDelivery,
} from '@flotilla/server/api';
