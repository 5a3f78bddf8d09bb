// Demo steps around retraining: the policy that closes the loop on a drift alert, finding and following the
// retrain that policy starts, and a deliberately undertrained challenger that the gate has to refuse.
import type { RetrainJob } from '../../api/contract.ts';
import type { ApiClient } from '../api-client.ts';
import { followRun } from '../commands/train.ts';
import { until, type Api } from './fleet-steps.ts';
import type { RetrainSummary } from './summary.ts';

/**
 * The loop's policy: a drift alert on the model starts a retrain once `fieldSamples` labelled samples from the
 * cars arrived since the drift began (what the challenger learns the snow from); the gate wants +1 point on
 * the cars' newest samples; a blessed challenger waits for the operator (the demo) to roll it out.
 */
export function loopPolicy(o: { fieldSamples: number; retrainEpochs: number; cohort: string }) {
  return {
    trigger: { onDriftAlert: true, samplesAfterAlert: o.fieldSamples },
    data: { parent: 'mnist', cohorts: [o.cohort] },
    train: { hyper: { epochs: o.retrainEpochs } },
    gate: { margin: 1 },
    after: 'wait',
  };
}

/** The hasty retrain an operator might try: one epoch at a tenth of the learning rate, no drift trigger. */
export function worsePolicy(o: { cohort: string }) {
  return {
    trigger: {},
    data: { parent: 'mnist', cohorts: [o.cohort] },
    train: { hyper: { epochs: 1, learningRate: 1e-4 } },
    gate: { margin: 1 },
    after: 'wait',
  };
}

/** Waits for a retrain of `model` that a drift alert started (the policy's doing, not the demo's). */
export async function policyRetrain(api: Api, model: string, timeoutMs: number): Promise<RetrainJob> {
  const r = await until(
    () => api<{ jobs: RetrainJob[] }>('GET', `/api/v1/models/${model}/retraining`),
    (x) => x.jobs.some((j) => j.trigger.startsWith('drift:')),
    timeoutMs,
    `the retraining policy to start a retrain (it waits for labelled field samples after the drift alert)`,
    1000,
  );
  return r.jobs.find((j) => j.trigger.startsWith('drift:'))!;
}

/** Follows a retrain job (its training run's progress too) to its verdict. */
export async function followRetrain(
  client: ApiClient,
  api: Api,
  id: string,
  progress: boolean,
  say: (line: string) => void,
): Promise<RetrainJob> {
  const job = () => api<RetrainJob>('GET', `/api/v1/retraining/${id}`);
  const withRun = await until(job, (x) => Boolean(x.runId) || x.status !== 'running', 120_000, 'the retrain run');
  if (withRun.dataset)
    say(
      `field dataset ${withRun.dataset.name}: ${withRun.dataset.fieldRows} labelled field rows added to the parent, ${withRun.dataset.holdoutRows} newest held out for the gate`,
    );
  if (withRun.runId) await followRun(client, withRun.runId, progress);
  return until(job, (x) => x.status !== 'running', 180_000, 'the gate verdict', 1000);
}

/**
 * Sets the hasty policy, retrains and waits for the verdict. The caller puts the loop policy back when it is done
 * measuring: until then no alert on the new model starts another retrain (it would compete for the CPU).
 */
export async function tryWorseChallenger(
  client: ApiClient,
  api: Api,
  model: string,
  o: { cohort: string; progress: boolean; say: (line: string) => void },
): Promise<RetrainJob> {
  await api('PUT', `/api/v1/models/${model}/retraining-policy`, worsePolicy(o));
  const job = await api<RetrainJob>('POST', `/api/v1/models/${model}/retrain`);
  return followRetrain(client, api, job.id, o.progress, o.say);
}

/** A job as the summary reports it. */
export function retrainSummary(j: RetrainJob): RetrainSummary {
  return {
    id: j.id,
    trigger: j.trigger,
    status: j.status,
    challenger: j.challenger ?? null,
    fieldRows: j.dataset?.fieldRows ?? null,
    holdoutRows: j.dataset?.holdoutRows ?? null,
    fieldDelta: j.verdict?.fieldDelta ?? null,
    testDelta: j.verdict?.testDelta ?? null,
    failures: j.verdict?.failures ?? (j.error ? [j.error] : []),
  };
}
