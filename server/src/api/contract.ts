// The HTTP API's face for clients (the console, the CLI): the typed route trees and every type a request
// or an answer carries. Clients import this module only (`@flotilla/server/api`, types only), never the
// server's inner folders, so moving a module inside the server breaks no client, while renaming a field
// a route answers with breaks every client that reads it at compile time.
import type { z } from '@hono/zod-openapi';
import type { monitoringRoutes } from './routes/monitoring.ts';
import type { rolloutRoutes } from './routes/rollouts.ts';
import type { ModelSummary as ModelSummarySchema, SweepRanking as SweepRankingSchema } from './schemas/registry.ts';
import type { TargetPreview, RolloutPreview as RolloutPreviewSchema, RolloutStatus as RolloutStatusSchema } from './schemas/rollouts.ts';
import type { FieldSampleInfo as FieldSampleSchema, RetrainJob as RetrainJobSchema } from './schemas/monitoring.ts';
import type {
  SetDesiredResult as SetDesiredResultSchema,
  DevicePage as DevicePageSchema,
  ImportLine as ImportLineSchema,
} from './schemas/fleet.ts';
import type { errorBody } from './errors.ts';
import type { KeyList as KeyListSchema, TrustChange as TrustChangeSchema } from './schemas/keys.ts';
import type { eventRoutes } from './routes/events.ts';
import type { trainerFileRoutes } from './routes/trainer-files.ts';
import type {
  CreatedWebhook as CreatedWebhookSchema,
  Delivery as DeliverySchema,
  EventPage as EventPageSchema,
  Webhook as WebhookSchema,
} from './schemas/events.ts';

/** Datasets, runs, sweeps, conversion, models, tokens, enrollments, devices, bundles, keys, /me, rollouts, monitoring, retraining. */
export type { ApiApp } from './app.ts';
/** Rollout routes alone: typed from their module, so a client can check them before a server mounts them. */
export type RolloutApi = ReturnType<typeof rolloutRoutes>;
/** Event and webhook routes alone: the event log (JSON pages; the SSE stream is `GET /events`), webhooks. */
export type EventsApi = ReturnType<typeof eventRoutes>;
/** Monitoring routes alone: series, drift, alerts. */
export type MonitoringApi = ReturnType<typeof monitoringRoutes>;
/** An outside trainer's downloads (job token, not an operator token): `GET /retraining/jobs/{id}/files/{name}`. */
export type TrainerFilesApi = ReturnType<typeof trainerFileRoutes>;

export type {
  AliasMove,
  ApiToken,
  BundleRecord,
  DatasetVersion,
  Device,
  DeviceEvent,
  EpochRecord,
  ModelVersion,
  Role,
  Run,
  RunStatus,
  Sweep,
} from '../store/entities.ts';
export type { DeviceView, Provisioned, RotationResult } from '../devices/device-service.ts';
export type { Enrollment, EnrollmentTemplate } from '../store/entities.ts';
export type { Enrolled, Recovered } from '../devices/enrollment-service.ts';
export type { ComparisonRow } from '../runs/compare-runs.ts';
export type { RunEvent } from '../runs/run-events.ts';
export type { RankedTrial } from '../runs/sweep-service.ts';
export type {
  GateVerdict,
  Rollout,
  RolloutDevice,
  RolloutDeviceDetail,
  RolloutDeviceState,
  RolloutEventRecord,
  RolloutRequestInput,
  RolloutState,
  RolloutStatus,
  StageStats,
  StageStatus,
  TimelineEntry,
} from '../rollouts/index.ts';
export type { Alert, AlertChange, AlertFeature } from '../monitoring/alert.ts';
export type { Metric, Series, SeriesPoint } from '../monitoring/series.ts';
export type { StreamStatus } from '../monitoring/drift-detector.ts';
export type { DriftConfig } from '../monitoring/drift-config.ts';
export type { Estimate } from '../monitoring/performance-estimate.ts';
export type { Histogram } from '../monitoring/histogram.ts';
export type { ImportReport } from '../datasets/import-report.ts';
export type { RetrainingPolicy, RetrainingPolicyInput } from '../retraining/retraining-policy.ts';
export type { TrainerDownloads } from '../retraining/trainer-files.ts';
export type { ConversionOutcome } from '../conversion/conversion-service.ts';
export type { ParityReport, QuantizationReport } from '../convert/index.ts';
export type { CloudEvent, EventType } from '../events/cloud-event.ts';

/** A retrain job as the API answers it: status, dataset lineage, challenger and the gate verdict. */
export type RetrainJob = z.infer<typeof RetrainJobSchema>;
/** A field sample as listed (GET /retraining/samples): device, prediction, label and the label's feedback source. */
export type FieldSample = z.infer<typeof FieldSampleSchema>;
/** A rollout's status view as the API answers it: stages with counts and verdicts, device counts, allowed actions. */
export type RolloutStatusAnswer = z.infer<typeof RolloutStatusSchema>;
/** A registered model as listed: its newest version and where each alias points. */
export type ModelSummary = z.infer<typeof ModelSummarySchema>;
/** A sweep and its trials ranked by validation accuracy. */
export type SweepRanking = z.infer<typeof SweepRankingSchema>;
/** The wizard's live count: how many devices a target matches and how the stages split them. */
export type RolloutPreview = z.infer<typeof TargetPreview>;
/** A rollout's target against the fleet now: matching devices and those not yet included. */
export type RolloutTargetPreview = z.infer<typeof RolloutPreviewSchema>;
/** What setting many devices' desired bundle did. */
export type SetDesiredResult = z.infer<typeof SetDesiredResultSchema>;
/** One page of devices, with the cursor of the next. */
export type DevicePage = z.infer<typeof DevicePageSchema>;
/** The trusted bundle-signing keys (GET /keys): fingerprints, the active signer, the trust version and update. */
export type KeyList = z.infer<typeof KeyListSchema>;
/** What `keys rotate` or `keys retire` changed, and how many devices got the trust update. */
export type TrustChangeAnswer = z.infer<typeof TrustChangeSchema>;
/** Every refusal: `{ error: { code, message, details? } }` with a stable code. */
export type ApiErrorBody = ReturnType<typeof errorBody>;
/** A webhook as listed: filters, enabled or disabled with the reason, cursor, last deliveries (never the secret). */
export type WebhookAnswer = z.infer<typeof WebhookSchema>;
/** The answer that created a webhook: the only one carrying its secret. */
export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;
/** One delivery attempt of a webhook. */
export type WebhookDelivery = z.infer<typeof DeliverySchema>;
/** A page of the event log. */
export type EventPage = z.infer<typeof EventPageSchema>;
/** One NDJSON line of `POST /devices/import` with `Accept: application/x-ndjson`: progress, then done or error. */
export type DeviceImportLine = z.infer<typeof ImportLineSchema>;
