// FleetSimulator: provisions a fleet through the API and runs every device as a real in-process agent.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceGroup, resolveTransforms, seeded, type Shard } from './device-group.ts';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';
import type { InputTransform } from './input-transforms.ts';
import { ProcessShard } from './process-shard.ts';
import type { DeviceRow, DeviceSpec, SimDeviceState } from './shard-protocol.ts';
import type { SimDevice } from './sim-device.ts';

/** Options of {@link FleetSimulator.start}. Rates are shares of the fleet, 0..1, drawn per device. */
export interface SimulatorOptions {
  /** Server base URL and an operator (or admin) token, used to provision and to read the key. */
  server: string;
  token: string;
  devices: number;
  /** Cohort tags, assigned round-robin. Default `['car', 'phone', 'sensor']`. */
  cohorts?: string[];
  /** Tags every device also gets (e.g. a run tag, so rollouts can target this fleet only). */
  tags?: string[];
  /** Device id prefix. Default `sim-<random>`. */
  idPrefix?: string;
  /** Devices already provisioned (a restarted simulator): skips provisioning. */
  provisioned?: { id: string; token: string; cohort: string }[];
  /** Folder holding one data folder per device. Default a new temporary folder, removed by close(). */
  baseDir?: string;
  /** Broker URL. Default: the server's `/api/v1/devices/{id}/connection` answer. */
  mqttUrl?: string;
  /** Predictions per device per second. Default 1; 0 sends no traffic. */
  rate?: number;
  /** Share of predictions labelled with `agent.feedback`. Default 1. */
  feedbackRate?: number;
  /** Input transform per cohort: a function or a name from TRANSFORMS (e.g. `{ phone: 'snow' }`). */
  transforms?: Record<string, InputTransform | string>;
  crashRate?: number;
  flakyRate?: number;
  slowRate?: number;
  selfTestFailRate?: number;
  /** Mean seconds between crashes of a crashing device (default 20) and its downtime (default 1000 ms). */
  crashEverySec?: number;
  restartDelayMs?: number;
  /** Added latency of slow devices per prediction, ms. Default 250. */
  slowDelayMs?: number;
  /** The agents' window length until the server's desired state says otherwise. Default 5. */
  telemetryWindowSec?: number;
  /** Agents started at once. Default 25. */
  startConcurrency?: number;
  /** Seed of every random draw (faults, inputs, gaps). Default 1. */
  seed?: number;
  /**
   * Processes the devices run in. 1 (default): all in this process, as `devices`. More: that many
   * worker processes share them, each with its own event loop, heap and I/O threads (a thousand
   * agents saturate one event loop); transforms must then be given by name.
   */
  processes?: number;
  /** Progress lines while starting. */
  log?: (line: string) => void;
}

export interface CohortStats {
  devices: number;
  predictions: number;
  errors: number;
  labelled: number;
  /** Correct share of labelled predictions, or null before any. */
  accuracy: number | null;
}

export class FleetSimulator {
  private constructor(
    /** The agents of this process; empty when they run in worker processes (see `processes`). */
    readonly devices: SimDevice[],
    private readonly fleet: { id: string; token: string; cohort: string }[],
    private readonly shards: Shard[],
    private readonly baseDir: string,
    private readonly ownsBaseDir: boolean,
    private readonly proxy: FlakyProxy | null,
  ) {}

  /** Provisions (unless given `provisioned`), then starts every agent; resolves once all have started. */
  static async start(o: SimulatorOptions): Promise<FleetSimulator> {
    const random = seeded(o.seed ?? 1);
    const api = async (method: string, path: string, body?: string, type = 'application/json') => {
      const res = await fetch(`${o.server}${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${o.token}`, ...(body ? { 'content-type': type } : {}) },
      });
      const json = (await res.json().catch(() => null)) as any;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const cohorts = o.cohorts?.length ? o.cohorts : ['car', 'phone', 'sensor'];
    const prefix = o.idPrefix ?? `sim-${Math.random().toString(36).slice(2, 8)}`;
    let fleet = o.provisioned;
    if (!fleet) {
      const rows = Array.from({ length: o.devices }, (_, i) => ({
        id: `${prefix}-${cohorts[i % cohorts.length]}-${String(i).padStart(5, '0')}`,
        cohort: cohorts[i % cohorts.length]!,
      }));
      // One CSV import: all or none, and one request instead of N.
      const csv = ['id,tags', ...rows.map((r) => `${r.id},${[r.cohort, ...(o.tags ?? [])].join(';')}`)].join('\n');
      const made = (await api('POST', '/api/v1/devices/import', csv, 'text/csv')) as { devices: { id: string; token: string }[] };
      const tokens = new Map(made.devices.map((d) => [d.id, d.token]));
      fleet = rows.map((r) => ({ ...r, token: tokens.get(r.id)! }));
    }
    const keys = (await api('GET', '/api/v1/keys')) as { keys: { file: string }[] };
    const trustedKeys = keys.keys.map((k) => k.file);
    let mqttUrl = o.mqttUrl;
    if (!mqttUrl && fleet.length) {
      const d = fleet[0]!;
      const res = await fetch(`${o.server}/api/v1/devices/${d.id}/connection`, { headers: { authorization: `Bearer ${d.id}:${d.token}` } });
      mqttUrl = ((await res.json()) as { mqtt: string }).mqtt;
    }
    const flakyRate = o.flakyRate ?? 0;
    const proxy = flakyRate > 0 && mqttUrl ? await startFlakyProxy(mqttUrl, { random }) : null;
    const ownsBaseDir = !o.baseDir;
    const baseDir = o.baseDir ?? mkdtempSync(join(tmpdir(), 'flotilla-sim-'));
    const specs: DeviceSpec[] = fleet.map((d) => {
      const dataDir = join(baseDir, d.id);
      mkdirSync(dataDir, { recursive: true });
      const faults = {
        crash: random() < (o.crashRate ?? 0),
        flaky: random() < flakyRate,
        slow: random() < (o.slowRate ?? 0),
        selfTestFail: random() < (o.selfTestFailRate ?? 0),
      };
      return {
        ...d,
        dataDir,
        trustedKeys,
        server: o.server,
        mqttUrl: faults.flaky && proxy ? proxy.url : mqttUrl!,
        faults,
        slowDelayMs: o.slowDelayMs ?? 250,
        crashEverySec: o.crashEverySec ?? 20,
        restartDelayMs: o.restartDelayMs ?? 1000,
        telemetryWindowSec: o.telemetryWindowSec ?? 5,
        rate: o.rate ?? 1,
        feedbackRate: o.feedbackRate ?? 1,
      };
    });
    const processes = Math.max(1, Math.min(Math.floor(o.processes ?? 1), specs.length));
    const concurrency = o.startConcurrency ?? 25;
    const progress = o.log && ((n: number) => o.log!(`started ${n}/${specs.length} agents`));
    if (processes === 1) {
      const group = await DeviceGroup.create(specs, o.transforms ?? {}, random);
      const sim = new FleetSimulator(group.devices, fleet, [group], baseDir, ownsBaseDir, proxy);
      await group.start(concurrency, progress);
      return sim;
    }
    const named: Record<string, string> = {};
    for (const [cohort, t] of Object.entries(o.transforms ?? {})) {
      if (typeof t !== 'string')
        throw new Error(`with processes > 1 the transform of '${cohort}' must be a name (see TRANSFORMS), not a function`);
      named[cohort] = t;
    }
    resolveTransforms(named); // an unknown name throws here, before any worker starts
    // Contiguous slices, so each worker's share of every cohort matches the fleet's; started together.
    const per = Math.ceil(specs.length / processes);
    const started = new Array<number>(processes).fill(0);
    const settled = await Promise.allSettled(
      Array.from({ length: processes }, (_, i) =>
        ProcessShard.start({
          devices: specs.slice(i * per, (i + 1) * per),
          transforms: named,
          seed: (o.seed ?? 1) + 7919 * (i + 1),
          startConcurrency: Math.max(1, Math.ceil(concurrency / processes)),
          reportMs: 100,
          onStarted: (n) => {
            started[i] = n;
            progress?.(started.reduce((a, b) => a + b, 0));
          },
        }),
      ),
    );
    const shards = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(shards.map((s) => s.close()));
      await proxy?.close();
      throw failed.reason;
    }
    return new FleetSimulator([], fleet, shards, baseDir, ownsBaseDir, proxy);
  }

  /** Ids, tokens and cohorts, to start another simulator on the same fleet (and `baseDir`). */
  get provisioned(): { id: string; token: string; cohort: string }[] {
    return this.fleet.map((d) => ({ id: d.id, token: d.token, cohort: d.cohort }));
  }

  /** Devices in the fleet, wherever they run. */
  get size(): number {
    return this.fleet.length;
  }

  /** Process ids of the worker processes (none when the devices run in this process). */
  get workerPids(): number[] {
    return this.shards.flatMap((s) => (s instanceof ProcessShard ? [s.pid] : []));
  }

  get dataDir(): string {
    return this.baseDir;
  }

  /** Every device's state (from worker processes: as last reported, at most 100 ms old). */
  state(): SimDeviceState[] {
    return this.rows().map((r) => r.state);
  }

  /** How many devices serve each model version (`none` for no model). */
  versions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.state()) out[s.version ?? 'none'] = (out[s.version ?? 'none'] ?? 0) + 1;
    return out;
  }

  cohorts(): Record<string, CohortStats> {
    const out: Record<string, CohortStats> = {};
    for (const { state, stats } of this.rows()) {
      const c = (out[state.cohort] ??= { devices: 0, predictions: 0, errors: 0, labelled: 0, accuracy: null });
      c.devices++;
      c.predictions += stats.predictions;
      c.errors += stats.errors;
      c.labelled += stats.labelled;
      c.accuracy = ((c.accuracy ?? 0) * (c.labelled - stats.labelled) + stats.correct) / Math.max(1, c.labelled);
    }
    for (const c of Object.values(out)) if (c.labelled === 0) c.accuracy = null;
    return out;
  }

  /**
   * Sets (or with null, clears) a cohort's input transform from the next prediction on: weather changes
   * mid-run. In-process devices apply it before this returns; worker processes once they have read it.
   */
  setTransform(cohort: string, t: InputTransform | string | null): void {
    for (const s of this.shards) s.setTransform(cohort, t);
  }

  /** Stops every device's traffic and flushes its telemetry window; the agents stay connected to deliver. */
  async quiesce(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.quiesce()));
  }

  /** Telemetry windows queued on devices and not yet acknowledged (from workers: at most one report old). */
  backlog(): number {
    return this.state().reduce((n, s) => n + s.backlog, 0);
  }

  /** Connection drops the flaky-link proxy made. */
  get linkDrops(): number {
    return this.proxy?.drops ?? 0;
  }

  /** Points every agent at a restarted server (new ports): each closes and restarts on its data folder. */
  async retarget(server: string, mqttUrl: string): Promise<void> {
    await Promise.all(this.shards.map((s) => s.retarget(server, mqttUrl)));
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
    await this.proxy?.close();
    if (this.ownsBaseDir) rmSync(this.baseDir, { recursive: true, force: true });
  }

  private rows(): DeviceRow[] {
    return this.shards.flatMap((s) => s.rows());
  }
}
