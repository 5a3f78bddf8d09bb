// Training runs: validated before any worker starts, queued, trained in worker threads (so the API
// stays responsive), recorded with full lineage, and registered in the model registry on success.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { BlobStore } from '../blob/blob-store.ts';
import { RunError } from './run-error.ts';
import { codeVersion, hardware, packageVersions } from '../lineage/environment.ts';
import type { Logger } from '../log/logger.ts';
import { queuedRun, type ModelVersion, type Run } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { validateHyperparams } from '../training/hyperparams.ts';
import { DEFAULT_DENSE_SPEC } from '../training/model-spec.ts';
import { validateModelSpec } from '../training/validate-model-spec.ts';
import { RunEvents } from './run-events.ts';
import type { FromWorker, RunJob } from './run-protocol.ts';

export interface StartRunRequest {
  /** Dataset name (latest version), `name@digestPrefix`, or a digest prefix. */
  dataset: string;
  /** Registered model name; default `<dataset>-classifier`. */
  model?: string;
  /** Layer-list spec or `{ topology }`; default: the dense MNIST spec. */
  spec?: unknown;
  hyper?: Record<string, unknown>;
  /** Seed of the train/validation/test split (default 42). */
  splitSeed?: number;
  backend?: string;
  /** Register the trained model as a new version (default true; sweeps register only the winner). */
  register?: boolean;
  sweepId?: string | null;
  description?: string;
}

export interface RunServiceOptions {
  store: Store;
  blobs: BlobStore;
  log: Logger;
  /** Runs trained at once (default 1: this is a 2-core class of machine, and each run uses every core). */
  maxConcurrent?: number;
}

/** How long a webgpu run's worker is left alone before it is terminated (see runOne). */
const WEBGPU_DRAIN_MS = 2000;

interface Active {
  worker: Worker | null;
  cancelRequested: boolean;
  done: Promise<Run>;
}

export class RunService {
  readonly events = new RunEvents();
  private readonly queue: { run: Run; req: StartRunRequest; resolve: (r: Run) => void }[] = [];
  private readonly active = new Map<string, Active>();
  private running = 0;
  private closed = false;

  constructor(private readonly o: RunServiceOptions) {}

  /** Marks runs a previous process left unfinished as failed; their workers died with it. */
  async recover(): Promise<number> {
    const left = await this.o.store.runs.listUnfinished();
    for (const r of left) {
      await this.o.store.runs.setStatus(r.id, 'failed', {
        endedAt: new Date().toISOString(),
        error: { code: 'SERVER_RESTARTED', message: 'the server stopped while this run was queued or training; start it again' },
      });
    }
    return left.length;
  }

  /** Validates the request, records a queued run and schedules it. Throws RunError on invalid input. */
  async start(req: StartRunRequest, actor: string): Promise<Run> {
    const ds = await this.o.store.datasets.resolve(req.dataset);
    if (!ds) throw RunError.notFound('dataset', req.dataset);
    const spec = req.spec ?? DEFAULT_DENSE_SPEC;
    const checked = validateModelSpec(spec, { inputShape: ds.featureShape, numClasses: ds.classes.length });
    if (!checked.ok) throw new RunError('INVALID_MODEL_SPEC', `model spec is invalid: ${checked.errors.join('; ')}`, checked.errors);
    const hyper = validateHyperparams(req.hyper ?? {});
    if (!hyper.ok) throw new RunError('INVALID_HYPERPARAMETERS', `hyperparameters are invalid: ${hyper.errors.join('; ')}`, hyper.errors);
    const model = req.model ?? `${ds.name}-classifier`;
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(model))
      throw new RunError('INVALID_MODEL_NAME', `model name '${model}' must be 1-64 letters, digits, '.', '_' or '-'`);
    const run = queuedRun({
      id: `run_${randomBytes(6).toString('hex')}`,
      model,
      sweepId: req.sweepId ?? null,
      datasetDigest: ds.digest,
      datasetName: ds.name,
      splitSeed: req.splitSeed ?? 42,
      spec,
      hyper: hyper.hyper as unknown as Record<string, unknown>,
      environment: { code: codeVersion(), packages: packageVersions(), hardware: hardware(), requestedBackend: req.backend ?? null },
      createdBy: actor,
    });
    await this.o.store.runs.create(run);
    let resolve!: (r: Run) => void;
    const done = new Promise<Run>((r) => (resolve = r));
    this.active.set(run.id, { worker: null, cancelRequested: false, done });
    this.queue.push({ run, req, resolve });
    this.events.emit({ type: 'status', runId: run.id, status: 'queued' });
    this.pump();
    return run;
  }

  /** Resolves when the run ends (any status). */
  async wait(runId: string): Promise<Run> {
    const a = this.active.get(runId);
    if (a) return a.done;
    const r = await this.o.store.runs.get(runId);
    if (!r) throw RunError.notFound('run', runId);
    return r;
  }

  /** Cancels a queued or running run; the worker stops between batches. */
  async cancel(runId: string, actor: string): Promise<Run> {
    const run = await this.o.store.runs.get(runId);
    if (!run) throw RunError.notFound('run', runId);
    const a = this.active.get(runId);
    if (!a || ['succeeded', 'failed', 'cancelled'].includes(run.status)) {
      throw new RunError('RUN_FINISHED', `run ${runId} already ended (${run.status})`);
    }
    a.cancelRequested = true;
    await this.o.store.audit.record({ actor, action: 'run.cancel', subject: runId, detail: null });
    const queued = this.queue.findIndex((q) => q.run.id === runId);
    if (queued >= 0) {
      const [q] = this.queue.splice(queued, 1);
      await this.end(runId, 'cancelled', null);
      q!.resolve((await this.o.store.runs.get(runId))!);
    } else {
      a.worker?.postMessage({ type: 'cancel' });
    }
    return (await this.o.store.runs.get(runId))!;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.active.values()].map((a) => a.worker?.terminate()));
  }

  private pump(): void {
    const max = this.o.maxConcurrent ?? 1;
    while (!this.closed && this.running < max && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      this.execute(next.run, next.req)
        .catch((e) => this.o.log.error('run crashed', { runId: next.run.id, err: String(e) }))
        .finally(async () => {
          this.running--;
          this.active.delete(next.run.id);
          // After close() the store may already be closed: waiters get the run as queued (its record tells the rest).
          next.resolve(this.closed ? next.run : (await this.o.store.runs.get(next.run.id))!);
          this.pump();
        });
    }
  }

  private async execute(run: Run, req: StartRunRequest): Promise<void> {
    const path = this.o.blobs.localPath(run.datasetDigest);
    if (!path || !(await this.o.blobs.has(run.datasetDigest))) {
      await this.end(run.id, 'failed', { code: 'DATASET_MISSING', message: `dataset blob ${run.datasetDigest} is missing` });
      return;
    }
    const job: RunJob = {
      runId: run.id,
      datasetPath: path,
      splitSeed: run.splitSeed,
      spec: run.spec,
      hyper: run.hyper,
      backend: req.backend,
    };
    const worker = new Worker(new URL('../workers/worker-bootstrap.mjs', import.meta.url), {
      workerData: { entry: new URL('./run-worker.ts', import.meta.url).href, job },
    });
    const a = this.active.get(run.id)!;
    a.worker = worker;
    if (a.cancelRequested) worker.postMessage({ type: 'cancel' });
    const startedAt = new Date().toISOString();
    await this.o.store.runs.setStatus(run.id, 'running', { startedAt });
    this.events.emit({ type: 'status', runId: run.id, status: 'running' });
    this.o.log.info('run started', { runId: run.id, model: run.model, dataset: run.datasetDigest.slice(0, 12) });

    await new Promise<void>((resolve) => {
      let settled = false;
      const finish = async (status: 'succeeded' | 'failed' | 'cancelled', error: { code: string; message: string } | null) => {
        if (settled) return;
        settled = true;
        await this.end(run.id, status, error);
        resolve();
      };
      worker.on('message', (m: FromWorker) => {
        void this.onMessage(run, req, m, finish).catch((e) => finish('failed', { code: 'RUN_RECORD_FAILED', message: String(e) }));
      });
      worker.on('error', (e) => void finish('failed', { code: 'WORKER_CRASHED', message: String(e?.message ?? e) }));
      worker.on(
        'exit',
        (code) =>
          void finish(a.cancelRequested ? 'cancelled' : 'failed', {
            code: 'WORKER_EXITED',
            message: `training worker exited with code ${code}`,
          }),
      );
    });
    // Dawn (the webgpu backend) delivers its last GPU callbacks on the worker's event loop a moment after
    // training ends; terminating the worker before they run aborts the whole server process (a fatal napi
    // error in a torn-down environment). Give them time to drain first.
    if ((run.environment as { backend?: { name?: string } }).backend?.name === 'webgpu')
      await new Promise((r) => setTimeout(r, WEBGPU_DRAIN_MS));
    await worker.terminate();
  }

  private async onMessage(
    run: Run,
    req: StartRunRequest,
    m: FromWorker,
    finish: (s: 'succeeded' | 'failed' | 'cancelled', e: { code: string; message: string } | null) => Promise<void>,
  ): Promise<void> {
    switch (m.type) {
      case 'started': {
        const env = { ...run.environment, backend: m.backend, split: m.split };
        run.environment = env;
        await this.o.store.runs.setStatus(run.id, 'running', { environment: env });
        return;
      }
      case 'batch':
        this.events.emit({ type: 'batch', runId: run.id, epoch: m.epoch, batch: m.batch, batches: m.batches, loss: m.loss });
        return;
      case 'epoch':
        await this.o.store.runs.appendEpoch(run.id, m.record);
        this.events.emit({ type: 'epoch', runId: run.id, record: { ...m.record } });
        return;
      case 'error':
        await finish('failed', { code: m.code, message: m.message });
        return;
      case 'done': {
        if (m.cancelled) return finish('cancelled', null);
        const modelJson = await this.o.blobs.put(new TextEncoder().encode(m.modelJson));
        const weights = await this.o.blobs.put(m.weights);
        const artifacts = { 'model.json': modelJson.digest, 'weights.bin': weights.digest };
        await this.o.store.runs.finish(run.id, { metrics: m.metrics, artifacts });
        if (req.register !== false) await this.register(run, artifacts, m.signature, m.metrics, req.description ?? '');
        await finish('succeeded', null);
        return;
      }
    }
  }

  /** Files a finished run in the registry as the next version of its model. */
  async register(
    run: Run,
    artifacts: Record<string, string>,
    signature: unknown,
    metrics: Record<string, unknown>,
    description: string,
  ): Promise<ModelVersion> {
    const v = await this.o.store.models.addVersion({
      model: run.model,
      runId: run.id,
      format: 'tfjs',
      artifacts,
      signature,
      metrics,
      quantization: null,
      tags: [],
      description,
    });
    await this.o.store.audit.record({
      actor: run.createdBy,
      action: 'model.register',
      subject: `${v.model}@${v.version}`,
      detail: { runId: run.id },
    });
    return v;
  }

  private async end(
    runId: string,
    status: 'succeeded' | 'failed' | 'cancelled',
    error: { code: string; message: string } | null,
  ): Promise<void> {
    await this.o.store.runs.setStatus(runId, status, { endedAt: new Date().toISOString(), error });
    this.events.emit({ type: 'status', runId, status, error });
    this.o.log.info('run ended', { runId, status, error: error?.code });
  }
}
