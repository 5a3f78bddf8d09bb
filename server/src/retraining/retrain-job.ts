// A retrain job as the service runs it and the RetrainingStore keeps it (its history survives restarts).
import type { GateVerdict } from './challenger-gate.ts';

/** `interrupted`: the server process running it stopped (restart, crash) before it ended; `error` says so. */
export const RETRAIN_STATUSES = ['running', 'blessed', 'refused', 'failed', 'interrupted'] as const;
export type RetrainStatus = (typeof RETRAIN_STATUSES)[number];

export interface RetrainJob {
  id: string;
  model: string;
  status: RetrainStatus;
  /** What started it: `manual`, `drift:<alertId>`, `samples`, `schedule`. */
  trigger: string;
  actor: string;
  startedAt: string;
  endedAt: string | null;
  dataset: { digest: string; name: string; parents: string[]; fieldRows: number; holdoutRows: number } | null;
  champion: string | null;
  challenger: string | null;
  runId: string | null;
  verdict: GateVerdict | null;
  /** Bundle ref handed to `startCanary`, when the policy says `canary`. */
  canary: string | null;
  error: string | null;
}

/** A job that has just started: what it will find (dataset, models, run, verdict, canary, error) is still null. */
export const startedJob = (j: Pick<RetrainJob, 'id' | 'model' | 'trigger' | 'actor' | 'startedAt'>): RetrainJob => ({
  id: j.id,
  model: j.model,
  status: 'running',
  trigger: j.trigger,
  actor: j.actor,
  startedAt: j.startedAt,
  endedAt: null,
  dataset: null,
  champion: null,
  challenger: null,
  runId: null,
  verdict: null,
  canary: null,
  error: null,
});
