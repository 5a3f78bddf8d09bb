// Types shared by every route module: who is calling, and the services they may use.
import type { BlobStore } from '../blob/blob-store.ts';
import type { BrokerEndpoints } from '../broker/broker-link.ts';
import type { ConversionService } from '../conversion/conversion-service.ts';
import type { Logger } from '../log/logger.ts';
import type { MonitoringService } from '../monitoring/monitoring-service.ts';
import type { RetrainingService } from '../retraining/retraining-service.ts';
import type { RolloutEngine } from '../rollouts/rollout-engine.ts';
import type { RunService } from '../runs/run-service.ts';
import type { SweepService } from '../runs/sweep-service.ts';
import type { DatasetCatalog } from '../datasets/dataset-catalog.ts';
import type { Role } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import type { FleetServices } from './routes/fleet-services.ts';
import type { EventLog } from '../events/event-log.ts';
import type { EventBus } from '../events/event-publisher.ts';
import type { WebhookService } from '../events/webhook-service.ts';

export interface Actor {
  /** Token id, or 'anonymous'. */
  id: string;
  name: string;
  role: Role;
}

export interface Services {
  store: Store;
  blobs: BlobStore;
  runs: RunService;
  log: Logger;
  dataDir: string;
}

/** Everything the whole app is built around (here, not in app.ts, so route modules need not import the app). */
export interface AppServices extends Services {
  datasets: DatasetCatalog;
  sweeps: SweepService;
  fleet: FleetServices;
  conversion: ConversionService;
  monitoring: MonitoringService;
  rollouts: RolloutEngine;
  retraining: RetrainingService;
  /** The event log (the SSE stream reads it), the bus (wakes the stream) and webhooks. */
  events: { log: EventLog; bus: Pick<EventBus, 'onEvent'>; webhooks: WebhookService };
  /** Broker URLs once it listens (null before). */
  brokerEndpoints?: () => BrokerEndpoints | null;
}

export type AppEnv = { Variables: { actor: Actor; services: Services } };
