// The RetrainingStore seam: per-model retraining policies and the retrain jobs' history, in the metadata
// store (SQLite or the PostgreSQL database several server processes share). Engines in store/<engine>/;
// the contract both pass is retraining-store-contract.ts.
import type { RetrainJob, RetrainStatus } from './retrain-job.ts';
import type { RetrainingPolicy } from './retraining-policy.ts';

export interface RetrainJobQuery {
  model?: string;
  status?: RetrainStatus;
  /** Most jobs returned, newest first (default 100). */
  limit?: number;
}

/** What `startJob` needs besides the job: who runs it and until when its lease holds without renewal. */
export interface JobLease {
  /** The server process running the job (lease.ts `newHolderId`). */
  holder: string;
  /** Ms since the epoch: past it, with no renewal, the job counts as abandoned. */
  leaseUntil: number;
  /** Now, ms since the epoch. */
  now: number;
  /** Why a running job of the model whose lease ran out is marked interrupted first. */
  expiredReason: string;
}

export interface RetrainingStore {
  getPolicy(model: string): Promise<RetrainingPolicy | null>;
  /** Replaces the model's policy (already validated and bounded by the service). */
  putPolicy(model: string, policy: RetrainingPolicy): Promise<void>;
  /** Every policy, by model name in byte order. Model names are plain strings: `__proto__` is a model like any other. */
  listPolicies(): Promise<[string, RetrainingPolicy][]>;
  /**
   * Records `job` (status `running`) unless its model already has a running job whose lease holds: then that
   * job comes back with `started: false`. A running job whose lease ran out is marked `interrupted` first.
   * At most one job per model is ever running, across every process sharing the store.
   */
  startJob(job: RetrainJob, lease: JobLease): Promise<{ job: RetrainJob; started: boolean }>;
  /** Writes the job as it is now (its progress, or its end), by id; `leaseUntil` renews a running job's lease. */
  saveJob(job: RetrainJob, leaseUntil?: number): Promise<void>;
  getJob(id: string): Promise<RetrainJob | null>;
  /** Newest first. */
  listJobs(q?: RetrainJobQuery): Promise<RetrainJob[]>;
  /**
   * Marks `interrupted` (with `reason` as its error, ended `at`) every running job whose lease ends before
   * `leaseBefore` (ms; `Infinity` for all), and returns them.
   */
  interruptRunning(o: { leaseBefore: number; reason: string; at: string }): Promise<RetrainJob[]>;
}

/** Jobs one listing returns at most. */
export const MAX_JOB_LIST = 1000;
