// Continuous training: per model, build a field dataset, retrain the champion's spec on it, export int8,
// gate the challenger against the champion, and on a blessing move the `challenger` alias (and maybe canary).
// Policies and jobs live in the RetrainingStore: a job's history outlives the process, and a job whose
// process stopped (restart, crash) is marked `interrupted` instead of reading `running` forever.
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
import { newHolderId } from '../store/lease.ts';
import { evaluateChallenger } from './challenger-gate.ts';
import type { FieldSampleInfo, FieldSampleStore, OperatorLabel, SampleListQuery } from './field-sample-store.ts';
import { buildFieldDataset, loadDataset, type FieldDataset } from './field-dataset.ts';
import { trainOutside } from './outside-retrain.ts';
import { policyBoundsProblem, RetrainingPolicy, type RetrainingPolicyInput } from './retraining-policy.ts';
import { startedJob, type RetrainJob, type RetrainStatus } from './retrain-job.ts';
import type { RetrainingStore, RetrainJobQuery } from './retraining-store.ts';
import type { TrainerFile, TrainerFileShelf } from './trainer-files.ts';

export type { RetrainJob, RetrainStatus } from './retrain-job.ts';

/** Why a job reads `interrupted`: said in its `error`. */
export const INTERRUPTED_BY_STOP =
  'interrupted: the server process running it stopped before it ended; start it again (POST /models/{name}/retrain)';
export const INTERRUPTED_ABANDONED =
  'interrupted: the server process running it stopped answering (its job lease ran out) before it ended; start it again (POST /models/{name}/retrain)';

/** How long a running job's lease holds without renewal (renewed every third of it). */
const DEFAULT_JOB_LEASE_MS = 60_000;

export interface RetrainingDeps {
  store: Store;
  blobs: BlobStore;
  samples: FieldSampleStore;
  runs: Pick<RunService, 'start' | 'wait'>;
  /** importOnnx and quantizeVersion are needed for outside trainers (policies with `trainer`). */
  conversion: Pick<ConversionService, 'exportVersion'> & Partial<Pick<ConversionService, 'importOnnx' | 'quantizeVersion' | 'evidence'>>;
  /** Policies and jobs (store/<engine>/*-retraining-store.ts). */
  retrainingStore: RetrainingStore;
  log: Logger;
  /** This process, as job leases name it (default: a fresh `newHolderId()`). */
  holder?: string;
  /**
   * True when no other server process shares the store (SQLite): `recover()` then marks every running job
   * interrupted at once. Otherwise only jobs whose lease ran out are, at start and every lease renewal.
   */
  soleProcess?: boolean;
  /** A running job's lease, ms (default 60 s): a job whose process stopped renewing it reads `interrupted` after it. */
  jobLeaseMs?: number;
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
  /** Running jobs of this process (the store has every job; these are the live objects being filled in). */
  private readonly jobs = new Map<string, RetrainJob>();
  private readonly busy = new Map<string, Promise<RetrainJob>>();
  private readonly lastAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly holder: string;
  private readonly leaseMs: number;
  /** model → the poll of a drift retrain waiting for labelled samples (one per model). */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  /** Triggers count from here on a fresh process: samples older than it were there before any policy ran. */
  private readonly bornAt = Date.now();

  constructor(private readonly d: RetrainingDeps) {
    this.holder = d.holder ?? newHolderId();
    this.leaseMs = d.jobLeaseMs ?? DEFAULT_JOB_LEASE_MS;
  }

  /**
   * Marks the jobs a stopped process left `running` as `interrupted` (all of them when this is the only
   * process, else those whose lease ran out), then keeps this process's job leases renewed and, with other
   * processes, sweeps for their abandoned jobs at every renewal. Call once at start.
   */
  async recover(): Promise<RetrainJob[]> {
    const found = await this.d.retrainingStore.interruptRunning({
      leaseBefore: this.d.soleProcess ? Infinity : Date.now(),
      reason: this.d.soleProcess ? INTERRUPTED_BY_STOP : INTERRUPTED_ABANDONED,
      at: new Date().toISOString(),
    });
    if (found.length)
      this.d.log.warn('retrain jobs left running by a stopped server process were marked interrupted', { jobs: found.map((j) => j.id) });
    this.leaseTimer ??= setInterval(
      () => void this.renewLeases().catch((e: unknown) => this.d.log.error('retrain job lease renewal failed', { err: String(e) })),
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    this.leaseTimer.unref();
    return found;
  }

  /** Renews this process's running jobs (saving their progress) and, with other processes, interrupts the abandoned ones. */
  private async renewLeases(): Promise<void> {
    const until = Date.now() + this.leaseMs;
    for (const j of this.jobs.values()) if (j.status === 'running') await this.d.retrainingStore.saveJob(j, until);
    if (this.d.soleProcess) return;
    const found = await this.d.retrainingStore.interruptRunning({
      leaseBefore: Date.now(),
      reason: INTERRUPTED_ABANDONED,
      at: new Date().toISOString(),
    });
    if (found.length)
      this.d.log.warn('retrain jobs of a server process that stopped were marked interrupted', { jobs: found.map((j) => j.id) });
  }

  async setPolicy(model: string, input: RetrainingPolicyInput): Promise<RetrainingPolicy> {
    // Bounded before parsing: a policy nested 200,000 deep or megabytes wide is refused with a reason.
    const bounds = policyBoundsProblem(input);
    if (bounds) throw new RetrainingError('INVALID_RETRAINING_POLICY', `retraining policy is ${bounds}: send a smaller policy`);
    const r = RetrainingPolicy.safeParse(input);
    if (!r.success)
      throw new RetrainingError(
        'INVALID_RETRAINING_POLICY',
        `retraining policy is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    await this.d.retrainingStore.putPolicy(model, r.data);
    return r.data;
  }

  async policy(model: string): Promise<RetrainingPolicy> {
    const p = await this.d.retrainingStore.getPolicy(model);
    if (!p) throw RetrainingError.notFound('retraining policy', model);
    return p;
  }

  /**
   * Starts a retrain in the background; a model already retraining (in any process sharing the store)
   * returns that job. `driftSince`: when the drift that triggered it began; the new version's cohorts are
   * profiled on their rows since then.
   */
  async start(
    model: string,
    actor: string,
    trigger = 'manual',
    override?: Partial<RetrainingPolicy>,
    driftSince?: string,
  ): Promise<RetrainJob> {
    const policy = { ...(await this.policy(model)), ...override };
    const now = Date.now();
    const fresh = startedJob({ id: `rt_${randomBytes(6).toString('hex')}`, model, trigger, actor, startedAt: new Date(now).toISOString() });
    const got = await this.d.retrainingStore.startJob(fresh, {
      holder: this.holder,
      leaseUntil: now + this.leaseMs,
      now,
      expiredReason: INTERRUPTED_ABANDONED,
    });
    if (!got.started) return this.jobs.get(got.job.id) ?? got.job;
    const job = fresh;
    this.jobs.set(job.id, job);
    this.lastAt.set(model, now);
    const done = this.execute(job, policy, driftSince)
      .catch((e: unknown) => {
        job.status = 'failed';
        job.error = e instanceof DomainError ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
        return job;
      })
      .then(async (j) => {
        // Stopped meanwhile: close() recorded it as interrupted, and the store may be gone.
        if (this.closed) return j;
        j.endedAt = new Date().toISOString();
        try {
          await this.d.retrainingStore.saveJob(j);
        } finally {
          this.jobs.delete(j.id);
        }
        await this.d.events?.publish(`retrain.${j.status as Exclude<RetrainStatus, 'running' | 'interrupted'>}`, j.id, { ...j });
        await this.d.store.audit.record({ actor, action: 'model.retrain', subject: j.id, detail: j });
        this.d.log.info('retrain finished', { id: j.id, model, status: j.status, failures: j.verdict?.failures ?? null, error: j.error });
        return j;
      })
      .catch((e: unknown) => {
        // Only the store writes can fail here (e.g. the database went away); the job itself is kept in memory.
        this.d.log.error('retrain record failed', { id: job.id, err: String(e) });
        return job;
      })
      .finally(() => this.busy.delete(job.id));
    this.busy.set(job.id, done);
    void this.d.events?.publish('retrain.started', job.id, { ...job });
    return job;
  }

  /** Runs the whole retrain and resolves with the finished job. */
  async retrain(model: string, actor: string, override?: Partial<RetrainingPolicy>): Promise<RetrainJob> {
    return this.wait((await this.start(model, actor, 'manual', override)).id);
  }

  async wait(id: string): Promise<RetrainJob> {
    return (await this.busy.get(id)) ?? this.get(id);
  }

  /** Jobs of every process sharing the store, newest first; this process's running ones as they are now. */
  async list(q: RetrainJobQuery = {}): Promise<RetrainJob[]> {
    return (await this.d.retrainingStore.listJobs(q)).map((j) => this.jobs.get(j.id) ?? j);
  }

  /** Field samples, newest first, with where each label came from (GET /retraining/samples). */
  samples(q: SampleListQuery): Promise<FieldSampleInfo[]> {
    return this.d.samples.list(q);
  }

  /**
   * An operator's labels for stored samples (source `operator`, replacing what a device said), audited.
   * Returns how many samples were found.
   */
  async labelSamples(labels: readonly OperatorLabel[], actor: string): Promise<number> {
    const matched = await this.d.samples.relabel(labels);
    await this.d.store.audit.record({
      actor,
      action: 'samples.label',
      subject: 'field-samples',
      detail: { given: labels.length, matched },
    });
    return matched;
  }

  /** A file of a running outside trainer's job, for the holder of its download token (TRAINER_TOKEN_INVALID otherwise). */
  trainerFile(jobId: string, name: string, token: string | undefined): TrainerFile {
    if (!this.d.trainerFiles) throw new RetrainingError('TRAINER_TOKEN_INVALID', 'this server serves no trainer downloads');
    return this.d.trainerFiles.open(jobId, name, token);
  }

  /** A job from the store (this process's running ones as they are now), else the audit record of one older than the store. */
  async get(id: string): Promise<RetrainJob> {
    const j = this.jobs.get(id) ?? (await this.d.retrainingStore.getJob(id));
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

  /**
   * The retrain's field dataset as the policy asks (its cohorts and label sources; each cohort also profiled on its
   * rows since the drift began), recorded on the job. A native retrain keeps the champion's split seed.
   */
  private async fieldDataset(job: RetrainJob, p: RetrainingPolicy, driftSince?: string, splitSeed?: number) {
    const ds = await buildFieldDataset(this.d, {
      parent: p.data.parent,
      model: job.model,
      cohorts: p.data.cohorts,
      holdoutFraction: p.data.holdoutFraction,
      ...(splitSeed !== undefined ? { splitSeed } : {}),
      minDevicesPerLabel: p.data.minDevicesPerLabel,
      sources: p.data.sources,
      recentSince: driftSince,
    });
    job.dataset = {
      digest: ds.version.digest,
      name: ds.version.name,
      parents: ds.version.parents,
      fieldRows: ds.fieldRows,
      holdoutRows: ds.holdout.n,
    };
    return ds;
  }

  private async execute(job: RetrainJob, p: RetrainingPolicy, driftSince?: string): Promise<RetrainJob> {
    const { store, runs } = this.d;
    const champion = await store.models.resolve(`${job.model}@champion`);
    if (!champion)
      throw new RetrainingError('NO_CHAMPION', `${job.model} has no champion to retrain from: point the 'champion' alias at a version`);
    if (p.trainer) return this.executeOutside(job, p, champion, driftSince);
    if (!champion.runId)
      throw new RetrainingError(
        'NO_CHAMPION',
        `${job.model}@${champion.version} was imported, not trained here: give its retraining policy an outside trainer (trainer: { kind: 'command' | 'http', ... })`,
      );
    job.champion = `${champion.model}@${champion.version}`;
    const championRun = await store.runs.get(champion.runId);
    if (!championRun) throw RetrainingError.notFound('run', champion.runId);
    const championInt8 = await this.int8(champion, job.actor);
    const ds = await this.fieldDataset(job, p, driftSince, championRun.splitSeed);
    const run = await runs.start(
      {
        dataset: ds.version.digest,
        model: job.model,
        spec: championRun.spec,
        hyper: { ...championRun.hyper, ...p.train.hyper },
        splitSeed: championRun.splitSeed,
        description: `retrain ${job.id} of ${job.champion} on ${ds.version.name}@${ds.version.digest.slice(0, 12)}`,
      },
      job.actor,
    );
    job.runId = run.id;
    const finished = await runs.wait(run.id);
    if (finished.status !== 'succeeded')
      throw new RetrainingError('RETRAIN_RUN_FAILED', `run ${run.id} ended ${finished.status}: ${JSON.stringify(finished.error)}`);
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
    if (!importOnnx || !quantizeVersion || !evidence)
      throw new RetrainingError('TRAINER_FAILED', 'this server was started without the conversion service outside trainers need');
    const conversion = this.d.conversion as Required<RetrainingDeps['conversion']>;
    job.champion = `${champion.model}@${champion.version}`;
    const championOnnx = champion.artifacts['model.onnx'] ? await this.d.blobs.get(champion.artifacts['model.onnx']) : null;
    if (!championOnnx)
      throw new RetrainingError(
        'NO_CHAMPION',
        `${job.champion} has no ONNX model (export it first) for the trainer to start from and the gate to compare with`,
      );
    const ds = await this.fieldDataset(job, p, driftSince);
    // By name and digest: a field dataset with no field rows has its parent's content, so the digest alone is ambiguous.
    const { data } = await loadDataset(this.d, `${ds.version.name}@${ds.version.digest}`);
    const ev = await conversion.evidence(champion);
    const challenger = await trainOutside(conversion, {
      jobId: job.id,
      actor: job.actor,
      trainer,
      champion,
      championOnnx,
      train: data,
      field: ds,
      labels: ev?.labels ?? ds.version.classes,
      hyper: p.train.hyper ?? {},
      championLineage: champion.metrics?.import ?? (champion.runId ? { runId: champion.runId } : null),
      downloads: this.d.trainerFiles,
    });
    job.challenger = `${challenger.model}@${challenger.version}`;
    if (trainer.quantize === 'none') {
      const challengerOnnx = await this.d.blobs.get(challenger.artifacts['model.onnx']!);
      return this.judge(
        job,
        p,
        challenger,
        ds,
        { bytes: championOnnx, parityPassed: true },
        { bytes: challengerOnnx!, parityPassed: true },
      );
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
  private async judge(
    job: RetrainJob,
    p: RetrainingPolicy,
    challenger: ModelVersion,
    ds: FieldDataset,
    championInt8: { bytes: Uint8Array; parityPassed: boolean },
    challengerInt8: { bytes: Uint8Array; parityPassed: boolean },
  ): Promise<RetrainJob> {
    job.verdict = await evaluateChallenger({
      championInt8: championInt8.bytes,
      challengerInt8: challengerInt8.bytes,
      holdout: ds.holdout,
      test: ds.parentTest,
      parityPassed: challengerInt8.parityPassed,
      thresholds: p.gate,
    });
    if (!job.verdict.blessed) {
      job.status = 'refused';
      return job;
    }
    await this.d.store.models.moveAlias({
      model: job.model,
      alias: 'challenger',
      toVersion: challenger.version,
      actor: job.actor,
      reason: `blessed by retrain ${job.id}`,
    });
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
    void (async () => {
      const p = await this.d.retrainingStore.getPolicy(model);
      if (!p?.trigger.onDriftAlert) return;
      if (this.d.triggerLease && !(await this.d.triggerLease())) return;
      this.startAfterSamples(model, change.alert, p);
    })().catch((e: unknown) => this.d.log.error('retraining drift trigger failed', { model, err: String(e) }));
  }

  /** A drift retrain, started once the policy's `samplesAfterAlert` labelled samples arrived since the drift began (polled every second). */
  private startAfterSamples(model: string, alert: Alert, p: RetrainingPolicy): void {
    const need = p.trigger.samplesAfterAlert;
    const fire = () =>
      void this.start(model, 'system:retraining', `drift:${alert.id}`, undefined, alert.since).catch((e: unknown) =>
        this.d.log.error('drift retrain did not start', { model, err: String(e) }),
      );
    if (need <= 0) return fire();
    if (this.waiting.has(model)) return;
    const cohorts = p.data.cohorts?.length ? p.data.cohorts : [alert.cohort];
    const count = async () =>
      (
        await Promise.all(
          cohorts.map((cohort) => this.d.samples.countLabelled({ model, cohort, since: alert.since, sources: p.data.sources })),
        )
      ).reduce((a, b) => a + b, 0);
    const poll: NodeJS.Timeout = setInterval(
      () =>
        void count().then(
          (n) => {
            if (n < need || this.waiting.get(model) !== poll) return;
            clearInterval(poll);
            this.waiting.delete(model);
            fire();
          },
          (e: unknown) => this.d.log.error('retraining sample count failed', { err: String(e) }),
        ),
      1000,
    );
    poll.unref();
    this.waiting.set(model, poll);
    this.d.log.info('drift retrain waits for labelled samples', { model, alert: alert.id, cohorts, need });
  }

  /** Sample-count and schedule triggers, checked every `intervalMs` (default 30 s). */
  startTriggers(intervalMs = 30_000): void {
    this.timer ??= setInterval(
      () => void this.checkTriggers().catch((e: unknown) => this.d.log.error('retraining trigger failed', { err: String(e) })),
      intervalMs,
    );
    this.timer.unref();
  }

  async checkTriggers(now = Date.now()): Promise<string[]> {
    const started: string[] = [];
    if (this.d.triggerLease && !(await this.d.triggerLease())) return started;
    for (const [model, p] of await this.d.retrainingStore.listPolicies()) {
      const last = this.lastAt.get(model) ?? this.bornAt;
      const since = new Date(last).toISOString();
      const fresh = p.trigger.minLabelledSamples > 0 ? await this.d.samples.countLabelled({ model, since, sources: p.data.sources }) : 0;
      const why =
        p.trigger.minLabelledSamples > 0 && fresh >= p.trigger.minLabelledSamples
          ? 'samples'
          : p.trigger.scheduleSec && now - last >= p.trigger.scheduleSec * 1000
            ? 'schedule'
            : null;
      if (why) started.push((await this.start(model, 'system:retraining', why)).id);
    }
    return started;
  }

  /**
   * Stops the triggers and records this process's running jobs as `interrupted` (nothing carries on with
   * them). They are not awaited: their training runs end with the run service.
   */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const poll of this.waiting.values()) clearInterval(poll);
    this.waiting.clear();
    this.timer = null;
    this.leaseTimer = null;
    this.closed = true;
    const at = new Date().toISOString();
    for (const j of this.jobs.values()) {
      const stopped: RetrainJob = { ...j, status: 'interrupted', endedAt: at, error: INTERRUPTED_BY_STOP };
      await this.d.retrainingStore
        .saveJob(stopped)
        .catch((e: unknown) => this.d.log.error('retrain job not recorded as interrupted', { id: j.id, err: String(e) }));
    }
    this.jobs.clear();
  }
}
