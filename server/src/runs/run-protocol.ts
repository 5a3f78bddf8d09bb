// Messages between the run service (main thread) and a training worker thread.
import type { EpochRecord } from '../store/entities.ts';
import type { ModelSignature } from './signature.ts';

export interface RunJob {
  runId: string;
  /** Local path of the dataset's canonical file in the blob store. */
  datasetPath: string;
  splitSeed: number;
  spec: unknown;
  hyper: Record<string, unknown>;
  /** Backend to prefer; the worker records what it actually got. */
  backend?: string;
}

export type ToWorker = { type: 'cancel' };

export type FromWorker =
  | { type: 'started'; backend: Record<string, unknown>; split: { train: number; validation: number; test: number } }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number }
  | { type: 'epoch'; record: EpochRecord }
  | {
      type: 'done';
      cancelled: boolean;
      metrics: Record<string, unknown>;
      modelJson: string;
      weights: Uint8Array;
      signature: ModelSignature;
    }
  | { type: 'error'; code: string; message: string };
