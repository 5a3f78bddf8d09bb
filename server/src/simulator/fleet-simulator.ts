// FleetSimulator: provisions a fleet through the API and runs every device as a real in-process agent.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../training/mnist-data.ts';
import { featureSize, type Dataset } from '../training/dataset-types.ts';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';
import { TRANSFORMS, type InputTransform } from './input-transforms.ts';
import { nativeRuntime, SimDevice } from './sim-device.ts';

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
  /** Progress lines while starting. */
  log?: (line: string) => void;
}

/** One device as the simulator sees it. */
export interface SimDeviceState {
  id: string;
  cohort: string;
  /** Version of the model it serves, or null. */
  version: string | null;
  state: string | null;
  online: boolean;
  faults: string[];
  predictions: number;
  crashes: number;
}

export interface CohortStats {
  devices: number;
  predictions: number;
  errors: number;
  labelled: number;
  /** Correct share of labelled predictions, or null before any. */
  accuracy: number | null;
}

/** Park-Miller with a splitmix start: reproducible fleets from one seed. */
function seeded(seed: number): () => number {
  let s = (seed * 2654435761) % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export class FleetSimulator {
  private constructor(
    readonly devices: SimDevice[],
    private readonly baseDir: string,
    private readonly ownsBaseDir: boolean,
    private readonly proxy: FlakyProxy | null,
    private readonly transforms: Map<string, InputTransform>,
  ) {}

  /** Provisions (unless given `provisioned`), then starts every agent; resolves once all have started. */
  static async start(o: SimulatorOptions): Promise<FleetSimulator> {
    const random = seeded(o.seed ?? 1);
    const api = async (method: string, path: string, body?: string, type = 'application/json') => {
      const res = await fetch(`${o.server}${path}`, { method, body, headers: { authorization: `Bearer ${o.token}`, ...(body ? { 'content-type': type } : {}) } });
      const json = (await res.json().catch(() => null)) as any;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const cohorts = o.cohorts?.length ? o.cohorts : ['car', 'phone', 'sensor'];
    const prefix = o.idPrefix ?? `sim-${Math.random().toString(36).slice(2, 8)}`;
    let fleet = o.provisioned;
    if (!fleet) {
      const rows = Array.from({ length: o.devices }, (_, i) => ({ id: `${prefix}-${cohorts[i % cohorts.length]}-${String(i).padStart(5, '0')}`, cohort: cohorts[i % cohorts.length]! }));
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
    const transforms = resolveTransforms(o.transforms ?? {});
    const input = o.rate === 0 ? null : await inputSource(transforms, random);
    const ownsBaseDir = !o.baseDir;
    const baseDir = o.baseDir ?? mkdtempSync(join(tmpdir(), 'flotilla-sim-'));
    const runtime = nativeRuntime();
    const devices = fleet.map((d) => {
      const dataDir = join(baseDir, d.id);
      mkdirSync(dataDir, { recursive: true });
      const faults = { crash: random() < (o.crashRate ?? 0), flaky: random() < flakyRate, slow: random() < (o.slowRate ?? 0), selfTestFail: random() < (o.selfTestFailRate ?? 0) };
      return new SimDevice({
        ...d, dataDir, trustedKeys, server: o.server, mqttUrl: faults.flaky && proxy ? proxy.url : mqttUrl!, faults, runtime,
        slowDelayMs: o.slowDelayMs ?? 250, crashEverySec: o.crashEverySec ?? 20, restartDelayMs: o.restartDelayMs ?? 1000,
        telemetryWindowSec: o.telemetryWindowSec ?? 5, nextInput: input, rate: o.rate ?? 1, feedbackRate: o.feedbackRate ?? 1, random,
      });
    });
    const sim = new FleetSimulator(devices, baseDir, ownsBaseDir, proxy, transforms);
    await sim.each((d) => d.start(), o.startConcurrency ?? 25, o.log && ((n) => o.log!(`started ${n}/${devices.length} agents`)));
    return sim;
  }

  /** Ids, tokens and cohorts, to start another simulator on the same fleet (and `baseDir`). */
  get provisioned(): { id: string; token: string; cohort: string }[] {
    return this.devices.map((d) => ({ id: d.c.id, token: d.c.token, cohort: d.c.cohort }));
  }

  get dataDir(): string {
    return this.baseDir;
  }

  state(): SimDeviceState[] {
    return this.devices.map((d) => ({
      id: d.c.id, cohort: d.c.cohort, version: d.agent?.model?.version ?? null, state: d.agent?.state ?? null, online: d.agent?.online ?? false,
      faults: Object.entries(d.c.faults).filter(([, on]) => on).map(([k]) => k), predictions: d.stats.predictions, crashes: d.stats.crashes,
    }));
  }

  /** How many devices serve each model version (`none` for no model). */
  versions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.state()) out[s.version ?? 'none'] = (out[s.version ?? 'none'] ?? 0) + 1;
    return out;
  }

  cohorts(): Record<string, CohortStats> {
    const out: Record<string, CohortStats> = {};
    for (const d of this.devices) {
      const c = (out[d.c.cohort] ??= { devices: 0, predictions: 0, errors: 0, labelled: 0, accuracy: null });
      c.devices++;
      c.predictions += d.stats.predictions;
      c.errors += d.stats.errors;
      c.labelled += d.stats.labelled;
      c.accuracy = ((c.accuracy ?? 0) * (c.labelled - d.stats.labelled) + d.stats.correct) / Math.max(1, c.labelled);
    }
    for (const c of Object.values(out)) if (c.labelled === 0) c.accuracy = null;
    return out;
  }

  /** Sets (or with null, clears) a cohort's input transform from the next prediction on: weather changes mid-run. */
  setTransform(cohort: string, t: InputTransform | string | null): void {
    if (t === null) this.transforms.delete(cohort);
    else this.transforms.set(cohort, resolveTransforms({ [cohort]: t }).get(cohort)!);
  }

  /** Connection drops the flaky-link proxy made. */
  get linkDrops(): number {
    return this.proxy?.drops ?? 0;
  }

  /** Points every agent at a restarted server (new ports): each closes and restarts on its data folder. */
  async retarget(server: string, mqttUrl: string): Promise<void> {
    await this.each((d) => d.retarget(server, mqttUrl), 25);
  }

  async close(): Promise<void> {
    await this.each((d) => d.close(), 50);
    await this.proxy?.close();
    if (this.ownsBaseDir) rmSync(this.baseDir, { recursive: true, force: true });
  }

  private async each(fn: (d: SimDevice) => Promise<void>, concurrency: number, progress?: (done: number) => void): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < this.devices.length) {
        await fn(this.devices[next++]!);
        if (++done % 100 === 0) progress?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.devices.length) }, worker));
  }
}

function resolveTransforms(transforms: Record<string, InputTransform | string>): Map<string, InputTransform> {
  const byCohort = new Map<string, InputTransform>();
  for (const [cohort, t] of Object.entries(transforms)) {
    const fn = typeof t === 'string' ? TRANSFORMS[t] : t;
    if (!fn) throw new Error(`unknown input transform '${String(t)}' (known: ${Object.keys(TRANSFORMS).join(', ')})`);
    byCohort.set(cohort, fn);
  }
  return byCohort;
}

/** Random MNIST rows with labels, transformed per cohort; reads the map on every draw, so changes apply at once. */
async function inputSource(byCohort: Map<string, InputTransform>, random: () => number) {
  const ds: Dataset = await loadMnist();
  const per = featureSize(ds);
  return (cohort: string) => {
    const i = Math.floor(random() * ds.n);
    const row = ds.x.subarray(i * per, (i + 1) * per);
    const t = byCohort.get(cohort);
    return { row: t ? t(row, random) : row, label: ds.y[i]! };
  };
}
