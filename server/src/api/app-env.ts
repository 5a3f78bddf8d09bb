// Types shared by every route module: who is calling, and the services they may use.
import type { BlobStore } from '../blob/blob-store.ts';
import type { Logger } from '../log/logger.ts';
import type { RunService } from '../runs/run-service.ts';
import type { Role } from '../store/entities.ts';
import type { Store } from '../store/store.ts';

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

export type AppEnv = { Variables: { actor: Actor; services: Services } };
