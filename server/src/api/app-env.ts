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
  /** Broker URLs once it listens (null before). */
  brokerEndpoints?: () => BrokerEndpoints | null;
}

export type AppEnv = { Variables: { actor: Actor; services: Services } };
