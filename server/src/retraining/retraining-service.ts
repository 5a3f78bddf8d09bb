// Continuous training: per model, build a field dataset, retrain the champion's spec on it, export int8,
// gate the challenger against the champion, and on a blessing move the `challenger` alias (and maybe canary).
import type { EventPublisher } from '../events/event-publisher.ts';
import { randomBytes } from 'node:crypto';
import type { BlobStore } from '../blob/blob-store.ts';
import type { ConversionService } from '../conversion/conversion-service.ts';
import { DomainError } from '../errors/domain-error.ts';
import { RetrainingError } from './retraining-error.ts';
import type { Logger } from '../log/logger.ts';
import type { Alert, AlertChange } from '../monitoring/alert.ts';
import type { RunService } from '../runs/run-service.ts';
import type { ModelVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { evaluateChallenger, type GateVerdict } from './challenger-gate.ts';
import type { FieldSampleStore } from './field-sample-store.ts';
import { buildFieldDataset, loadDataset, type FieldDataset } from './field-dataset.ts';
import { trainOutside } from './outside-retrain.ts';
import { RetrainingPolicy, type PolicyStore, type RetrainingPolicyInput } from './retraining-policy.ts';
import type { TrainerFile, TrainerFileShelf } from './trainer-files.ts';

export type RetrainStatus = 'running' | 'blessed' | 'refused' | 'failed';

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

export interface RetrainingDeps {
  store: Store;
  blobs: BlobStore;
  samples: FieldSampleStore;
  runs: Pick<RunService, 'start' | 'wait'>;
  /** importOnnx and quantizeVersion are needed for outside trainers (policies with `trainer`). */
  conversion: Pick<ConversionService, 'exportVersion'> & Partial<Pick<ConversionService, 'importOnnx' | 'quantizeVersion' | 'evidence'>>;
  policies: PolicyStore;
  log: Logger;
  /** Starts a canary rollout of `model@version`; given by the composition root. */
  startCanary?: (modelRef: string, actor: string) => Promise<unknown>;
  /**
   * Automatic triggers (drift alerts, sample counts, schedules) fire only when this resolves true: the
   * 'retraining' lease where several server processes share a database, so one retrain starts, not one
   * per process. Default: always. Manual retrains ignore it.
   */
  triggerLease?: () => Promise<boolean>;
  /** Publishes `retrain.started` and `retrain.<blessed|refused|failed>` (docs/events.md). */
  events?: EventPublisher;
  /** Serves outside trainers their job's files by URL with a job token (GET /retraining/jobs/{id}/files/{name}). */
  trainerFiles?: TrainerFileShelf;
}

const INT8 = 'model.int8.onnx';

export class RetrainingService {
  private readonly jobs = new Map<string, RetrainJob>();
  private readonly busy = new Map<string, Promise<RetrainJob>>();
  private readonly lastAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** model → the poll of a drift retrain waiting for labelled samples (one per model). */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  /** Triggers count from here on a fresh process: samples older than it were there before any policy ran. */
  private readonly bornAt = Date.now();

  constructor(private readonly d: RetrainingDeps) {}

  setPolicy(model: string, input: RetrainingPolicyInput): RetrainingPolicy {
    const r = RetrainingPolicy.safeParse(input);
    if (!r.success) throw new RetrainingError('INVALID_RETRAINING_POLICY', `retraining policy is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    this.d.policies.put(model, r.data);
    return r.data;
  }

  policy(model: string): RetrainingPolicy {
    const p = this.d.policies.get(model);
    if (!p) throw RetrainingError.notFound('retraining policy', model);
    return p;
  }

  /** Starts a retrain in the background; a model already retraining returns that job. */
  /** `driftSince`: when the drift that triggered it began; the new version's cohorts are profiled on their rows since then. */
  start(model: string, actor: string, trigger = 'manual', override?: Partial<RetrainingPolicy>, driftSince?: string): RetrainJob {
    const running = [...this.jobs.values()].find((j) => j.model === model && j.status === 'running');
    if (running) return running;
    const policy = { ...this.policy(model), ...override };
    const job: RetrainJob = {
      id: `rt_${randomBytes(6).toString('hex')}`, model, status: 'running', trigger, actor, startedAt: new Date().toISOString(), endedAt: null,
      dataset: null, champion: null, challenger: null, runId: null, verdict: null, canary: null, error: null,
    };
    this.jobs.set(job.id, job);
    this.lastAt.set(model, Date.now());
    const done = this.execute(job, policy, driftSince).catch((e: unknown) => {
      job.status = 'failed';
      job.error = e instanceof DomainError ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
      return job;
    }).then(async (j) => {
      j.endedAt = new Date().toISOString();
      this.busy.delete(j.id);
      await this.d.events?.publish(`retrain.${j.status as Exclude<RetrainStatus, 'running'>}`, j.id, { ...j });
      await this.d.store.audit.record({ actor, action: 'model.retrain', subject: j.id, detail: j });
      this.d.log.info('retrain finished', { id: j.id, model, status: j.status, failures: j.verdict?.failures ?? null, error: j.error });
      return j;
    }).catch((e: unknown) => {
      // Only the audit write can fail here (e.g. the store closed during shutdown); the job itself is kept.
      this.d.log.error('retrain audit failed', { id: job.id, err: String(e) });
      return job;
    });
    this.busy.set(job.id, done);
    void this.d.events?.publish('retrain.started', job.id, { ...job });
    return job;
  }

  /** Runs the whole retrain and resolves with the finished job. */
  retrain(model: string, actor: string, override?: Partial<RetrainingPolicy>): Promise<RetrainJob> {
    return this.wait(this.start(model, actor, 'manual', override).id);
  }

  async wait(id: string): Promise<RetrainJob> {
    return (await this.busy.get(id)) ?? this.get(id);
  }

  /** Jobs of this process for `model`, newest first (older ones are in the audit log). */
  list(model: string): RetrainJob[] {
    return [...this.jobs.values()].filter((j) => j.model === model).reverse();
  }

  /** A file of a running outside trainer's job, for the holder of its download token (TRAINER_TOKEN_INVALID otherwise). */
  trainerFile(jobId: string, name: string, token: string | undefined): TrainerFile {
    if (!this.d.trainerFiles) throw new RetrainingError('TRAINER_TOKEN_INVALID', 'this server serves no trainer downloads');
    return this.d.trainerFiles.open(jobId, name, token);
  }

  /** A job of this process, else its audit record (jobs end in the audit log). */
  async get(id: string): Promise<RetrainJob> {
    const j = this.jobs.get(id);
    if (j) return j;
    const [a] = await this.d.store.audit.list({ subject: id, limit: 1 });
    if (!a || a.action !== 'model.retrain') throw RetrainingError.notFound('retrain', id);
    return a.detail as RetrainJob;
  }

  private async int8(v: ModelVersion, actor: string): Promise<{ bytes: Uint8Array; parityPassed: boolean }> {
    let digest = v.artifacts[INT8];
    let gate = (v.quantization as { gate?: { passed?: boolean } } | null)?.gate;
    if (!digest) {
      const out = await this.d.conversion.exportVersion(`${v.model}@${v.version}`, { quantize: 'int8' }, actor);
      digest = out.int8?.digest;
      gate = out.gate as { passed?: boolean } | undefined;
    }
    const bytes = digest ? await this.d.blobs.get(digest) : null;
    if (!bytes) throw new RetrainingError('INT8_MISSING', `${v.model}@${v.version} has no int8 model`);
    return { bytes, parityPassed: gate?.passed === true };
  }

  private async execute(job: RetrainJob, p: RetrainingPolicy, driftSince?: string): Promise<RetrainJob> {
    const { store, runs } = this.d;
    const champion = await store.models.resolve(`${job.model}@champion`);
    if (!champion) throw new RetrainingError('NO_CHAMPION', `${job.model} has no champion to retrain from: point the 'champion' alias at a version`);
    if (p.trainer) return this.executeOutside(job, p, champion, driftSince);
    if (!champion.runId) throw new RetrainingError('NO_CHAMPION', `${job.model}@${champion.version} was imported, not trained here: give its retraining policy an outside trainer (trainer: { kind: 'command' | 'http', ... })`);
    job.champion = `${champion.model}@${champion.version}`;
    const championRun = await store.runs.get(champion.runId);
    if (!championRun) throw RetrainingError.notFound('run', champion.runId);
    const championInt8 = await this.int8(champion, job.actor);
    const ds = await buildFieldDataset(this.d, {
      parent: p.data.parent, model: job.model, cohorts: p.data.cohorts, holdoutFraction: p.data.holdoutFraction, splitSeed: championRun.splitSeed,
      minDevicesPerLabel: p.data.minDevicesPerLabel, recentSince: driftSince,
    });
    job.dataset = { digest: ds.version.digest, name: ds.version.name, parents: ds.version.parents, fieldRows: ds.fieldRows, holdoutRows: ds.holdout.n };
    const run = await runs.start({
      dataset: ds.version.digest, model: job.model, spec: championRun.spec, hyper: { ...championRun.hyper, ...p.train.hyper },
      splitSeed: championRun.splitSeed, description: `retrain ${job.id} of ${job.champion} on ${ds.version.name}@${ds.version.digest.slice(0, 12)}`,
    }, job.actor);
    job.runId = run.id;
    const finished = await runs.wait(run.id);
    if (finished.status !== 'succeeded') throw new RetrainingError('RETRAIN_RUN_FAILED', `run ${run.id} ended ${finished.status}: ${JSON.stringify(finished.error)}`);
    const challenger = (await store.models.listVersions(job.model)).find((v) => v.runId === run.id);
    if (!challenger) throw new RetrainingError('CHALLENGER_NOT_REGISTERED', `run ${run.id} registered no version`);
    job.challenger = `${challenger.model}@${challenger.version}`;
    const challengerInt8 = await this.int8(challenger, job.actor);
    return this.judge(job, p, challenger, ds, championInt8, challengerInt8);
  }

  /**
   * A retrain by an outside trainer: the field dataset goes to the trainer, its ONNX model is imported like an
   * operator's (the field rows as reference set), quantized with its parity gate (unless the policy says
   * `quantize: 'none'`), and judged by the same challenger gate as a native retrain.
   */
  private async executeOutside(job: RetrainJob, p: RetrainingPolicy, champion: ModelVersion, driftSince?: string): Promise<RetrainJob> {
    const trainer = p.trainer!;
    const { importOnnx, quantizeVersion, evidence } = this.d.conversion;
    if (!importOnnx || !quantizeVersion || !evidence) throw new RetrainingError('TRAINER_FAILED', 'this server was started without the conversion service outside trainers need');
    const conversion = this.d.conversion as Required<RetrainingDeps['conversion']>;
    job.champion = `${champion.model}@${champion.version}`;
    const championOnnx = champion.artifacts['model.onnx'] ? await this.d.blobs.get(champion.artifacts['model.onnx']) : null;
    if (!championOnnx) throw new RetrainingError('NO_CHAMPION', `${job.champion} has no ONNX model (export it first) for the trainer to start from and the gate to compare with`);
    const ds = await buildFieldDataset(this.d, {
      parent: p.data.parent, model: job.model, cohorts: p.data.cohorts, holdoutFraction: p.data.holdoutFraction, minDevicesPerLabel: p.data.minDevicesPerLabel,
      // As for a native retrain: the challenger's cohorts are profiled on their rows since the drift began.
      recentSince: driftSince,
    });
    job.dataset = { digest: ds.version.digest, name: ds.version.name, parents: ds.version.parents, fieldRows: ds.fieldRows, holdoutRows: ds.holdout.n };
    // By name and digest: a field dataset with no field rows has its parent's content, so the digest alone is ambiguous.
    const { data } = await loadDataset(this.d, `${ds.version.name}@${ds.version.digest}`);
    const ev = await conversion.evidence(champion);
    const challenger = await trainOutside(conversion, {
      jobId: job.id, actor: job.actor, trainer, champion, championOnnx, train: data, field: ds, labels: ev?.labels ?? ds.version.classes,
      hyper: p.train.hyper ?? {}, championLineage: champion.metrics?.import ?? (champion.runId ? { runId: champion.runId } : null),
      downloads: this.d.trainerFiles,
    });
    job.challenger = `${challenger.model}@${challenger.version}`;
    if (trainer.quantize === 'none') {
      const challengerOnnx = await this.d.blobs.get(challenger.artifacts['model.onnx']!);
      return this.judge(job, p, challenger, ds, { bytes: championOnnx, parityPassed: true }, { bytes: challengerOnnx!, parityPassed: true });
    }
    const int8Of = async (v: ModelVersion) => {
      if (v.artifacts[INT8]) return this.int8(v, job.actor);
      // Calibrated on the field dataset version (its test split held out for the parity report).
      const out = await conversion.quantizeVersion(`${v.model}@${v.version}`, { dataset: ds.version.digest }, undefined, {}, job.actor);
      const bytes = out.int8 ? await this.d.blobs.get(out.int8.digest) : null;
      if (!bytes) throw new RetrainingError('INT8_MISSING', `${v.model}@${v.version} has no int8 model after quantization`);
      return { bytes, parityPassed: (out.gate as { passed?: boolean } | null)?.passed === true };
    };
    const championInt8 = await int8Of(champion);
    return this.judge(job, p, challenger, ds, championInt8, await int8Of(challenger));
  }

  /** The challenger gate, then (on a blessing) the `challenger` alias and, when the policy says so, a canary. */
  private async judge(job: RetrainJob, p: RetrainingPolicy, challenger: ModelVersion, ds: FieldDataset, championInt8: { bytes: Uint8Array; parityPassed: boolean }, challengerInt8: { bytes: Uint8Array; parityPassed: boolean }): Promise<RetrainJob> {
    job.verdict = await evaluateChallenger({
      championInt8: championInt8.bytes, challengerInt8: challengerInt8.bytes, holdout: ds.holdout, test: ds.parentTest,
      parityPassed: challengerInt8.parityPassed, thresholds: p.gate,
    });
    if (!job.verdict.blessed) {
      job.status = 'refused';
      return job;
    }
    await this.d.store.models.moveAlias({ model: job.model, alias: 'challenger', toVersion: challenger.version, actor: job.actor, reason: `blessed by retrain ${job.id}` });
    if (p.after === 'canary' && this.d.startCanary) {
      // The blessing stands even if no canary can start (e.g. no bundle built yet): an operator can start one.
      try {
        await this.d.startCanary(job.challenger!, job.actor);
        job.canary = job.challenger;
      } catch (e) {
        job.error = `blessed, but the canary did not start: ${(e as Error)?.message ?? String(e)}`;
      }
    }
    job.status = 'blessed';
    return job;
  }

  /** Drift trigger: a raised alert on a model whose policy says `onDriftAlert` starts a retrain. */
  onAlert(change: AlertChange): void {
    if (change.type !== 'raised') return;
    const model = change.alert.model.split('@')[0]!;
    if (!this.d.policies.get(model)?.trigger.onDriftAlert) return;
    const fire = () => this.startAfterSamples(model, change.alert);
    const lease = this.d.triggerLease;
    if (!lease) fire();
    else void lease().then((mine) => { if (mine) fire(); }, (e: unknown) => this.d.log.error('retraining lease check failed', { err: String(e) }));
  }

  /** A drift retrain, started once the policy's `samplesAfterAlert` labelled samples arrived since the drift began (polled every second). */
  private startAfterSamples(model: string, alert: Alert): void {
    const p = this.d.policies.get(model);
    const need = p?.trigger.samplesAfterAlert ?? 0;
    const fire = () => this.start(model, 'system:retraining', `drift:${alert.id}`, undefined, alert.since);
    if (!p || need <= 0) return void fire();
    if (this.waiting.has(model)) return;
    const cohorts = p.data.cohorts?.length ? p.data.cohorts : [alert.cohort];
    const count = async () => (await Promise.all(cohorts.map((cohort) => this.d.samples.countLabelled({ model, cohort, since: alert.since })))).reduce((a, b) => a + b, 0);
    const poll: NodeJS.Timeout = setInterval(() => void count().then((n) => {
      if (n < need || this.waiting.get(model) !== poll) return;
      clearInterval(poll);
      this.waiting.delete(model);
      fire();
    }, (e: unknown) => this.d.log.error('retraining sample count failed', { err: String(e) })), 1000);
    poll.unref();
    this.waiting.set(model, poll);
    this.d.log.info('drift retrain waits for labelled samples', { model, alert: alert.id, cohorts, need });
  }

  /** Sample-count and schedule triggers, checked every `intervalMs` (default 30 s). */
  startTriggers(intervalMs = 30_000): void {
    this.timer ??= setInterval(() => void this.checkTriggers().catch((e: unknown) => this.d.log.error('retraining trigger failed', { err: String(e) })), intervalMs);
    this.timer.unref();
  }

  async checkTriggers(now = Date.now()): Promise<string[]> {
    const started: string[] = [];
    if (this.d.triggerLease && !(await this.d.triggerLease())) return started;
    for (const [model, p] of Object.entries(this.d.policies.list())) {
      const last = this.lastAt.get(model) ?? this.bornAt;
      const since = new Date(last).toISOString();
      const fresh = p.trigger.minLabelledSamples > 0 ? await this.d.samples.countLabelled({ model, since }) : 0;
      const why = p.trigger.minLabelledSamples > 0 && fresh >= p.trigger.minLabelledSamples ? 'samples'
        : p.trigger.scheduleSec && now - last >= p.trigger.scheduleSec * 1000 ? 'schedule' : null;
      if (why) started.push(this.start(model, 'system:retraining', why).id);
    }
    return started;
  }

  /** Stops the triggers. Running jobs are not awaited: their training runs end with the run service. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const poll of this.waiting.values()) clearInterval(poll);
    this.waiting.clear();
    this.timer = null;
  }
}
