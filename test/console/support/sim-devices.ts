// Simulated devices for the console's e2e tests: real MQTT clients (over the server's WebSocket
// endpoint) that report state, follow their desired bundle through the deployment states
// [WIRE-2.4], and send telemetry windows [WIRE-2.5]. No model runs; only the wire is real.
import mqtt, { type MqttClient } from 'mqtt';
import { DEFAULT_PREFIX, deviceTopic, type DeployState, type TelemetryWindow } from '@flotilla/firmware-bundler/wire';

interface Model {
  name: string;
  version: string;
  sequence: number;
}

const STEPS: DeployState[] = ['downloading', 'verifying', 'staging', 'activating', 'probing', 'committing', 'idle'];

export class SimDevice {
  state: DeployState = 'idle';
  model: Model | null = null;
  bundleId: string | null = null;
  lastError: string | null = null;
  private seq = 0;
  private telemetrySeq = 0;
  private installing: string | null = null;

  private constructor(
    readonly id: string,
    private readonly client: MqttClient,
    private readonly stepMs: number,
  ) {}

  /** Connects as `id` with its device token and reports idle (with `model`, when it already runs one). */
  static async connect(
    wsUrl: string,
    id: string,
    token: string,
    o: { model?: Model | null; bundleId?: string | null; stepMs?: number } = {},
  ): Promise<SimDevice> {
    const client = mqtt.connect(wsUrl, {
      clientId: id,
      username: id,
      password: token,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    await new Promise<void>((res, rej) => {
      client.once('connect', () => res());
      client.once('error', rej);
    });
    const d = new SimDevice(id, client, o.stepMs ?? 60);
    d.model = o.model ?? null;
    d.bundleId = o.bundleId ?? null;
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/desired') && payload.length) void d.onDesired(JSON.parse(payload.toString()));
    });
    await client.subscribeAsync(deviceTopic(DEFAULT_PREFIX, id, 'desired'), { qos: 1 });
    await d.report();
    return d;
  }

  private publish(leaf: 'reported' | 'status' | 'telemetry', body: unknown) {
    return this.client.publishAsync(deviceTopic(DEFAULT_PREFIX, this.id, leaf), JSON.stringify(body), {
      qos: 1,
      retain: leaf === 'reported',
    });
  }

  report() {
    return this.publish('reported', {
      v: 1,
      agentVersion: 'sim-1.0',
      runtime: 'simulated',
      state: this.state,
      model: this.model,
      bundleId: this.bundleId,
      freeStorageBytes: 512 * 1024 * 1024,
      lastError: this.lastError,
      at: new Date().toISOString(),
    });
  }

  private async step(to: DeployState, event: string, reason: string, bundleId: string) {
    const from = this.state;
    this.state = to;
    await this.publish('status', { v: 1, seq: this.seq++, bundleId, from, to, event, reason, at: new Date().toISOString() });
  }

  /** Walks the happy path to the desired bundle, one state every `stepMs`. */
  private async onDesired(desired: { bundle: { id: string; model: string; version: string; sequence: number } | null }) {
    const b = desired.bundle;
    if (!b || b.id === this.bundleId || this.installing === b.id) return;
    this.installing = b.id;
    for (const to of STEPS) {
      await new Promise((r) => setTimeout(r, this.stepMs));
      await this.step(
        to,
        to === 'idle' ? 'committed' : `${to}`,
        to === 'idle' ? 'self-test passed; committed' : `${to} ${b.version}`,
        b.id,
      );
    }
    this.model = { name: b.model, version: b.version, sequence: b.sequence };
    this.bundleId = b.id;
    this.installing = null;
    await this.report();
  }

  /** Sends one telemetry window for the model it runs; `features` are counts on the reference bins. */
  telemetry(w: Partial<Omit<TelemetryWindow, 'v' | 'seq'>> & { requests: number }) {
    const end = w.end ?? new Date().toISOString();
    const start = w.start ?? new Date(Date.parse(end) - 60_000).toISOString();
    return this.publish('telemetry', {
      v: 1,
      seq: this.telemetrySeq++,
      start,
      end,
      model: this.model,
      errors: 0,
      latencyMs: {
        p50: 3,
        p95: 7,
        p99: 11,
        hist: { edges: [0, 2, 4, 8, 16, 32], counts: [w.requests / 4, w.requests / 2, w.requests / 8, w.requests / 8, 0].map(Math.floor) },
      },
      predictions: [],
      confidence: { edges: [0, 0.5, 0.8, 0.9, 1], counts: [0, 0, 0, 0] },
      features: {},
      feedback: { labelled: 0, correct: 0 },
      shadow: null,
      dropped: 0,
      ...w,
    });
  }

  async close() {
    await this.client.endAsync(true).catch(() => undefined);
  }
}
