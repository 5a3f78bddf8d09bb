// The agent the app holds: serves predict, feedback, install and the update controls with collaborators
// core/compose.ts built and wired, and closes them. It builds nothing itself.
import type { Sha256Hex } from '@flotilla/firmware-bundler';
import type { DeployState, DeviceFeedbackSource } from '@flotilla/firmware-bundler/wire';
import { AgentError, isAgentError } from '../errors.ts';
import type { AgentStorage } from '../storage/agent-storage.ts';
import type { TelemetryService } from '../telemetry/telemetry-service.ts';
import type { ChunkStore } from '../update/chunk-store.ts';
import type { UpdateEngine } from '../update/update-engine.ts';
import type { UpdateRecord } from '../update/update-record.ts';
import { finishUse, type ActiveModel, type ModelInfo } from '../model/active-model.ts';
import { runTensors, type TensorValue } from '../runtime/inference-runtime.ts';
import type { ServerLink } from '../transport/server-link.ts';
import type { AgentEvents } from './agent-options.ts';
import type { Emitter } from './events.ts';
import type { ModelHost } from '../model/model-host.ts';
import type { ProviderChoice } from '../model/accelerator.ts';
import { argmax, confidenceOf, type BatchPrediction, type NamedPrediction, type Prediction } from '../model/predictions.ts';
import { classifyNamed, describeInputs, isNamedInputs, namedFeeds, type NamedInputs } from '../model/named-predict.ts';
import type { Reporter } from './reporter.ts';
import { prepareSideload, type InstallResult } from './sideload.ts';
import { waitForModel, type ReadyOptions } from './ready.ts';
import type { DeviceConditions, UpdateGate, UpdateLock } from '../update/update-gate.ts';
import type { ShadowRunner } from '../shadow/shadow-runner.ts';

/** Predictions remembered for feedback (oldest forgotten first). */
const FEEDBACK_MEMORY = 10_000;

/** What an {@link Agent} serves with: built and wired to each other by `composeAgent` (core/compose.ts). */
export interface AgentParts {
  storage: AgentStorage;
  /** The server connection, or null (serves and takes sideloaded bundles only). */
  link: ServerLink | null;
  hash: Sha256Hex;
  now: () => number;
  events: Emitter<AgentEvents>;
  /** Aborted by close(): pending `ready()` waits reject, and the wiring stops reacting. */
  closing: AbortController;
  host: ModelHost;
  chunks: ChunkStore;
  telemetry: TelemetryService;
  reporter: Reporter;
  gate: UpdateGate;
  engine: UpdateEngine;
  shadow: ShadowRunner;
  /** Resolves once the link and the update engine have started (the turn after composition), or were not because the agent closed. */
  begun: Promise<void>;
}

/** A running agent. Create it with `createAgent` (Node) or `createBrowserAgent`. */
export class Agent {
  private readonly events: Emitter<AgentEvents>;
  // Feedback memory: the top-1 of the last FEEDBACK_MEMORY predictions, by prediction number (a ring, not
  // a Map: this runs on every predict and must cost next to nothing).
  private readonly recentTop1 = new Int32Array(FEEDBACK_MEMORY).fill(-1);
  private readonly bootId = Math.random().toString(36).slice(2, 8);
  private counter = 0;
  private closed = false;
  /** Aborted by close(): pending `ready()` waits reject instead of hanging. */
  private readonly closing: AbortController;
  private readonly begun: Promise<void>;
  private readonly host: ModelHost;
  private readonly engine: UpdateEngine;
  private readonly telemetry: TelemetryService;
  private readonly reporter: Reporter;
  private readonly chunks: ChunkStore;
  private readonly shadow: ShadowRunner;
  private readonly gate: UpdateGate;
  private readonly storage: AgentStorage;
  private readonly link: ServerLink | null;
  private readonly hash: Sha256Hex;
  private readonly now: () => number;

  /** Create agents with `createAgent` (Node) or `createBrowserAgent`; this takes parts already wired. */
  constructor(parts: AgentParts) {
    ({
      events: this.events,
      closing: this.closing,
      begun: this.begun,
      host: this.host,
      engine: this.engine,
      telemetry: this.telemetry,
      reporter: this.reporter,
      chunks: this.chunks,
      shadow: this.shadow,
      gate: this.gate,
      storage: this.storage,
      link: this.link,
      hash: this.hash,
      now: this.now,
    } = parts);
  }

  /** The serving model, or null before the first install. */
  get model(): ModelInfo | null {
    return this.host.current?.info ?? null;
  }

  /** The shadow model running beside the serving one (never answering), or null [WIRE-2.2.1]. */
  /** The execution provider serving the current model and why (`cpu` unless an accelerator earned it), or null. */
  get executionProvider(): ProviderChoice | null {
    return this.host?.current?.provider ?? null;
  }

  get shadowModel(): ModelInfo | null {
    return this.shadow.info;
  }

  /** The deployment state [WIRE-4.1]. */
  get state(): DeployState {
    return this.engine.live.state;
  }

  /** Whether the server link is up. */
  get online(): boolean {
    return this.link?.online ?? false;
  }

  /** Telemetry windows on disk waiting for the server's ack. */
  get telemetryBacklog(): number {
    return this.telemetry.backlog;
  }

  /** The persisted update record (read-only view, for diagnostics). */
  get updateRecord(): Readonly<UpdateRecord> {
    return this.engine.live;
  }

  on<K extends keyof AgentEvents>(event: K, fn: (payload: AgentEvents[K]) => void): () => void {
    return this.events.on(event, fn);
  }

  once<K extends keyof AgentEvents>(event: K, filter?: (payload: AgentEvents[K]) => boolean): Promise<AgentEvents[K]> {
    return this.events.once(event, filter);
  }

  /**
   * Runs one row through the serving model, with the manifest's preprocessing applied first.
   * `row` holds the model input's values without the batch dimension (e.g. 784 pixels); this array form
   * serves models with one float32 input whose dims past the batch are fixed.
   * Throws AGENT_NO_MODEL, AGENT_INPUT_INVALID or AGENT_INFERENCE_FAILED; never fails because of an update.
   */
  predict(row: ArrayLike<number>): Promise<Prediction>;
  /**
   * Runs named tensors through the serving model as given (no preprocessing), for any model: several
   * inputs, any element type, dynamic dims at any size the model accepts, state tensors in and out.
   * `{ input_ids: { type: 'int64', dims: [1, 8], data: [...] }, attention_mask: {...} }`; every output
   * comes back typed, with its dims. Inputs are checked against the manifest's signature (AGENT_INPUT_INVALID).
   */
  predict(inputs: NamedInputs): Promise<NamedPrediction>;
  async predict(x: ArrayLike<number> | NamedInputs): Promise<Prediction | NamedPrediction> {
    if (isNamedInputs(x)) return this.predictNamed(x);
    const row = x;
    const m = this.acquire();
    const t0 = performance.now();
    const input = new Float32Array(m.rowSize);
    const feeds: Record<string, TensorValue> = {};
    let out;
    try {
      if (!m.rowInput) throw namedOnly(m);
      m.pipeline.apply(row, input, 0);
      feeds[m.inputName] = { data: input, dims: m.dims1 };
      out = await m.session.run(feeds);
    } catch (err) {
      if (isAgentError(err, 'AGENT_INPUT_INVALID')) this.telemetry.window.recordClientError();
      else this.telemetry.window.recordError(performance.now() - t0);
      throw asInferenceError(err);
    } finally {
      finishUse(m);
    }
    const outputs: Record<string, Float32Array> = {};
    for (const name in out) outputs[name] = out[name]!.data;
    return this.answer(m, outputs, input, 0, row, t0);
  }

  /** The named form of {@link predict}; `maxElements` bounds each input's element count (the local server's cap). */
  async predictNamed(inputs: NamedInputs, o: { maxElements?: number } = {}): Promise<NamedPrediction> {
    const m = this.acquire();
    const t0 = performance.now();
    let out;
    try {
      out = await runTensors(m.session, namedFeeds(m, inputs, o.maxElements));
    } catch (err) {
      this.telemetry.window.recordError(performance.now() - t0);
      throw asInferenceError(err);
    } finally {
      finishUse(m);
    }
    // Counted in telemetry (requests, latency, classes of a classifier) without input features: drift bins
    // describe the array form's single input, and a record of arbitrary tensors has no agreed feature.
    const c = classifyNamed(m, out);
    const n = this.counter++;
    const predictionId = `${this.bootId}-${n.toString(36)}`;
    this.recentTop1[n % FEEDBACK_MEMORY] = c?.top1 ?? -1;
    const p: NamedPrediction = { predictionId, outputs: out, model: m.info, latencyMs: performance.now() - t0 };
    if (c) {
      p.top1 = c.top1;
      p.confidence = c.confidence;
      const label = m.labels?.[c.top1];
      if (label !== undefined) p.label = label;
    }
    this.telemetry.window.recordPrediction(null, 0, c?.top1 ?? -1, c?.confidence ?? 0, p.latencyMs);
    return p;
  }

  /**
   * Runs many rows in one call: a Float32Array of n × rowSize values, or an array of rows. Models
   * with a fixed batch dimension run the rows one after another; the result is the same.
   */
  async predictBatch(rows: Float32Array | readonly ArrayLike<number>[]): Promise<BatchPrediction> {
    const m = this.acquire();
    const t0 = performance.now();
    let list: ArrayLike<number>[];
    try {
      if (!m.rowInput) throw namedOnly(m);
      list = rows instanceof Float32Array ? splitRows(rows, m.rowSize) : [...rows];
    } catch (err) {
      finishUse(m);
      throw err;
    }
    const n = list.length;
    const input = new Float32Array(n * m.rowSize);
    let perRow: Record<string, Float32Array>[];
    try {
      if (n === 0) throw new AgentError('AGENT_INPUT_INVALID', 'a batch needs at least one row');
      list.forEach((r, i) => m.pipeline.apply(r, input, i * m.rowSize));
      perRow = m.batchable ? await runBatch(m, input, n) : await runRows(m, input, n);
    } catch (err) {
      // Bad input is the caller's error [WIRE-2.5.2]: it must not read as the model failing.
      if (isAgentError(err, 'AGENT_INPUT_INVALID')) this.telemetry.window.recordClientError(Math.max(1, n));
      else this.telemetry.window.recordError(performance.now() - t0, Math.max(1, n));
      throw asInferenceError(err);
    } finally {
      finishUse(m);
    }
    const predictions = perRow.map((outputs, i) => this.answer(m, outputs, input, i * m.rowSize, list[i]!, t0));
    return { predictions, model: m.info, latencyMs: performance.now() - t0 };
  }

  /**
   * The true label of an earlier prediction (a class index, or a label the manifest lists).
   * Counted in the window (`feedback.labelled/correct`) and attached to the sample, if sampled.
   * Returns false when the prediction is unknown (too old, or from an earlier run). `source` goes with the
   * label to the server [WIRE-2.12.1], whose retraining policy may count only some sources: `app` (the
   * default, for the embedding app) or `local-api` (the local predict server's POST /v1/feedback).
   */
  feedback(predictionId: string, label: number | string, source: DeviceFeedbackSource = 'app'): boolean {
    const dash = predictionId.lastIndexOf('-');
    const n = dash > 0 && predictionId.slice(0, dash) === this.bootId ? parseInt(predictionId.slice(dash + 1), 36) : NaN;
    if (!(n >= 0 && n < this.counter && n >= this.counter - FEEDBACK_MEMORY)) return false;
    const top1 = this.recentTop1[n % FEEDBACK_MEMORY]!;
    if (top1 < 0) return false;
    const index = typeof label === 'number' ? label : (this.host.current?.manifest.labels?.indexOf(label) ?? -1);
    if (!Number.isInteger(index) || index < 0) throw new AgentError('AGENT_INPUT_INVALID', `unknown label ${JSON.stringify(label)}`);
    this.recentTop1[n % FEEDBACK_MEMORY] = -1;
    this.telemetry.window.recordFeedback(index, index === top1);
    this.telemetry.sampler.label(predictionId, index, source);
    return true;
  }

  /**
   * Installs a bundle file from local bytes (factory provisioning, an app shipping its first model)
   * through the same verified update flow as a server update.
   */
  async install(bundle: Uint8Array): Promise<InstallResult> {
    const prepared = await prepareSideload(bundle, this.chunks, this.hash);
    const record = await this.engine.sideload(prepared);
    const serving = this.host.current;
    const ok = serving?.envelopeDigest === prepared.manifestDigest;
    return {
      ok,
      model: serving?.info ?? null,
      reason: ok ? 'installed' : (record.lastFailed?.reason ?? record.lastError ?? 'not installed'),
    };
  }

  /**
   * Resolves with the serving model as soon as one serves: at once when a verified model was on disk,
   * else after the first update (or `install`) passed its probe. On a fresh device call this before
   * `predict`, which throws AGENT_NO_MODEL until then. Rejects with AGENT_CLOSED when the agent closes
   * first, or AGENT_READY_TIMEOUT after `timeoutMs`.
   */
  ready(o?: ReadyOptions): Promise<ModelInfo> {
    return waitForModel(this.closed ? null : this.model, this.events, this.closing.signal, o);
  }

  /**
   * Reports the device's conditions [WIRE-2.2.2] (merged with earlier reports): a desired state's
   * update policy may wait for an unmetered link, charging, a battery level, an idle device or free storage.
   * A condition the policy asks for and the app never reported is unknown, and the update waits (and says so).
   */
  setConditions(c: DeviceConditions): void {
    this.gate.setConditions(c);
  }

  /**
   * Holds back activating a new model while the app must not see it change (a car in motion, a call in
   * progress); downloads go on. Held at most the policy's `maxLockHoldSec` per update (default an hour),
   * even for an urgent update. Release it as soon as the model may change.
   */
  holdUpdateLock(reason: string): UpdateLock {
    return this.gate.hold(reason);
  }

  /** Looks at the clock again now (the windows and the lock's maximum hold): for apps and tests that move a custom `now`. */
  recheckUpdate(): void {
    this.gate.wake();
  }

  /** Resolves once no update is running (the desired bundle serves, or failed and was reported). */
  async settled(): Promise<void> {
    await this.begun;
    await this.engine.idle();
  }

  /** Closes the current telemetry window now and publishes what is queued. */
  flushTelemetry(): Promise<void> {
    return this.telemetry.closeWindow();
  }

  /** Stops between update steps, keeps the last window on disk, says offline, releases the model. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.begun;
    await this.engine.stop();
    this.shadow.close();
    await this.telemetry.close();
    await this.reporter.settled();
    await this.link?.close();
    // Released without a `model` event: closing is not a model change ("now serving null").
    this.host.release();
    await this.storage.close();
  }

  private acquire(): ActiveModel {
    if (this.closed) throw new AgentError('AGENT_CLOSED', 'the agent is closed');
    const m = this.host.current;
    if (!m) throw new AgentError('AGENT_NO_MODEL', 'no verified model is installed yet');
    m.inflight++;
    return m;
  }

  /** Post-processing and bookkeeping of one answered row; latency is measured up to here, from `t0`. */
  private answer(
    m: ActiveModel,
    outputs: Record<string, Float32Array>,
    input: Float32Array,
    offset: number,
    raw: ArrayLike<number>,
    t0: number,
  ): Prediction {
    const primary = outputs[m.primaryOutput] ?? new Float32Array(1);
    const top1 = argmax(primary);
    const confidence = confidenceOf(primary, top1);
    const n = this.counter++;
    const predictionId = `${this.bootId}-${n.toString(36)}`;
    this.recentTop1[n % FEEDBACK_MEMORY] = top1;
    const label = m.labels?.[top1];
    const p: Prediction = { predictionId, outputs, top1, confidence, model: m.info, latencyMs: performance.now() - t0 };
    if (label !== undefined) p.label = label;
    this.telemetry.window.recordPrediction(input, offset, top1, confidence, p.latencyMs);
    if (this.telemetry.sampler.rate > 0) this.telemetry.sampler.offer(predictionId, raw, m.rowDims, top1, confidence, this.now());
    // After every bit of the answer is measured and recorded: the shadow never adds to its latency.
    if (this.shadow.info) this.shadow.offer(raw, { top1, width: primary.length, value: primary[0] ?? NaN });
    return p;
  }
}

function asInferenceError(err: unknown): Error {
  if (err instanceof AgentError) return err;
  return new AgentError('AGENT_INFERENCE_FAILED', `inference failed: ${(err as Error)?.message ?? err}`, { cause: err });
}

/** The array form's refusal for a model that only takes named tensors, saying how to call it. */
function namedOnly(m: ActiveModel): AgentError {
  return new AgentError(
    'AGENT_INPUT_INVALID',
    `${m.info.name} takes named tensors, not a row of numbers: call predict({ name: { type, dims, data } }) with ${describeInputs(m)}`,
  );
}

function splitRows(data: Float32Array, rowSize: number): Float32Array[] {
  if (data.length === 0 || data.length % rowSize !== 0)
    throw new AgentError('AGENT_INPUT_INVALID', `a batch needs a multiple of ${rowSize} values, got ${data.length}`);
  const rows: Float32Array[] = [];
  for (let i = 0; i < data.length; i += rowSize) rows.push(data.subarray(i, i + rowSize));
  return rows;
}

async function runBatch(m: ActiveModel, input: Float32Array, n: number): Promise<Record<string, Float32Array>[]> {
  const out = await m.session.run({ [m.inputName]: { data: input, dims: [n, ...m.rowDims] } });
  const rows: Record<string, Float32Array>[] = Array.from({ length: n }, () => ({}));
  for (const name in out) {
    const t = out[name]!;
    const per = t.data.length / n;
    for (let i = 0; i < n; i++) rows[i]![name] = t.dims[0] === n ? t.data.subarray(i * per, (i + 1) * per) : t.data;
  }
  return rows;
}

async function runRows(m: ActiveModel, input: Float32Array, n: number): Promise<Record<string, Float32Array>[]> {
  const rows: Record<string, Float32Array>[] = [];
  for (let i = 0; i < n; i++) {
    const out = await m.session.run({
      [m.inputName]: { data: input.subarray(i * m.rowSize, (i + 1) * m.rowSize), dims: [1, ...m.rowDims] },
    });
    const row: Record<string, Float32Array> = {};
    for (const name in out) row[name] = out[name]!.data;
    rows.push(row);
  }
  return rows;
}
