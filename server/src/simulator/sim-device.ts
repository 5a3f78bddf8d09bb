// One simulated device: a real agent on its own data folder, its inference traffic, and its injected crashes.
import { createAgent, OnnxNodeRuntime, type Agent, type InferenceRuntime } from '@flotilla/edge-agent';
import { FaultyRuntime, SharedSessionRuntime } from './sim-runtime.ts';
import { SimStorage } from './sim-storage.ts';

/** What the fleet gives each device to run. */
export interface SimDeviceConfig {
  id: string;
  token: string;
  cohort: string;
  dataDir: string;
  trustedKeys: string[];
  server: string;
  mqttUrl: string;
  /** Faults drawn for this device. */
  faults: { crash: boolean; flaky: boolean; slow: boolean; selfTestFail: boolean };
  /** Shared native runtime (one onnxruntime binding, and one session per model, for the whole process). */
  runtime: InferenceRuntime;
  slowDelayMs: number;
  /** Mean seconds between crashes of a crashing device, and the downtime before it restarts. */
  crashEverySec: number;
  restartDelayMs: number;
  telemetryWindowSec: number;
  /** Next input row and its label, already transformed for this device's cohort; null: no traffic. */
  nextInput: ((cohort: string) => { row: Float32Array; label: number }) | null;
  /** Predictions per second (0: none). */
  rate: number;
  /** Share of predictions that get a feedback label, 0..1. */
  feedbackRate: number;
  random: () => number;
}

export interface SimDeviceStats {
  predictions: number;
  errors: number;
  labelled: number;
  correct: number;
  crashes: number;
}

export class SimDevice {
  agent: Agent | null = null;
  readonly stats: SimDeviceStats = { predictions: 0, errors: 0, labelled: 0, correct: 0, crashes: 0 };
  private readonly runtime: InferenceRuntime;
  private traffic: NodeJS.Timeout | null = null;
  private crashTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Set by quiesce(): no new traffic; the agent stays connected to deliver what it queued. */
  private quiet = false;
  private inflight: Promise<void> | null = null;
  private starting: Promise<void> | null = null;

  constructor(readonly c: SimDeviceConfig) {
    const f = c.faults;
    this.runtime =
      f.slow || f.selfTestFail
        ? new FaultyRuntime(c.runtime, { delayMs: f.slow ? c.slowDelayMs : 0, breakNewModels: f.selfTestFail })
        : c.runtime;
  }

  /** Starts the agent (serving what its data folder holds) and the traffic and crash timers. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        this.agent = await createAgent({
          deviceId: this.c.id,
          token: this.c.token,
          server: this.c.server,
          mqttUrl: this.c.mqttUrl,
          storage: await SimStorage.open(this.c.dataDir),
          trustedKeys: this.c.trustedKeys,
          runtime: this.runtime,
          telemetry: { windowSec: this.c.telemetryWindowSec },
          // Short backoff: a simulated fleet should find a restarted server within seconds.
          backoff: { minMs: 200, maxMs: 2000 },
        });
      } finally {
        this.starting = null;
      }
      if (this.closed) return void (await this.agent.close());
      this.scheduleTraffic();
      this.scheduleCrash();
    })();
    return this.starting;
  }

  /** Moves the device to another server/broker (after a server restart on new ports): close, restart. */
  async retarget(server: string, mqttUrl: string): Promise<void> {
    await this.stop();
    this.c.server = server;
    this.c.mqttUrl = mqttUrl;
    this.closed = false;
    await this.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  private async stop(): Promise<void> {
    // A start in flight finishes first, so the timers it sets are cleared too.
    await this.starting?.catch(() => undefined);
    if (this.traffic) clearTimeout(this.traffic);
    if (this.crashTimer) clearTimeout(this.crashTimer);
    this.traffic = this.crashTimer = null;
    const a = this.agent;
    this.agent = null;
    await a?.close();
  }

  private scheduleTraffic(): void {
    if (!this.c.nextInput || this.c.rate <= 0 || this.closed || this.quiet) return;
    // Exponential gaps: requests arrive as a Poisson process, not in lockstep across the fleet.
    const gap = (-Math.log(1 - this.c.random()) / this.c.rate) * 1000;
    this.traffic = setTimeout(() => {
      this.inflight = this.predictOnce().finally(() => {
        this.inflight = null;
        this.scheduleTraffic();
      });
    }, gap);
  }

  /**
   * Stops this device's traffic and closes its telemetry window so it is sent; the agent stays online to
   * deliver its queue (`agent.telemetryBacklog` falls to 0 once the server acknowledged every window).
   */
  async quiesce(): Promise<void> {
    this.quiet = true;
    if (this.traffic) clearTimeout(this.traffic);
    this.traffic = null;
    await this.inflight;
    await this.agent?.flushTelemetry().catch(() => undefined);
  }

  private async predictOnce(): Promise<void> {
    const a = this.agent;
    if (!a?.model || !this.c.nextInput) return;
    const { row, label } = this.c.nextInput(this.c.cohort);
    try {
      const p = await a.predict(row);
      this.stats.predictions++;
      if (this.c.random() < this.c.feedbackRate && a.feedback(p.predictionId, label)) {
        this.stats.labelled++;
        if (p.top1 === label) this.stats.correct++;
      }
    } catch {
      this.stats.errors++;
    }
  }

  private scheduleCrash(): void {
    if (!this.c.faults.crash || this.closed) return;
    const after = -Math.log(1 - this.c.random()) * this.c.crashEverySec * 1000;
    this.crashTimer = setTimeout(() => void this.crash(), after);
  }

  /** Power cut: the agent goes away mid-whatever and comes back on the same data folder. */
  private async crash(): Promise<void> {
    this.stats.crashes++;
    await this.stop();
    await new Promise((r) => setTimeout(r, this.c.restartDelayMs));
    if (!this.closed) await this.start().catch(() => undefined);
  }
}

/** The process's runtime: onnxruntime-node, one session per distinct model for all its devices. */
export const nativeRuntime = (): InferenceRuntime => new SharedSessionRuntime(new OnnxNodeRuntime());
