// The devices one process runs: built from specs, started with bounded concurrency, reported as rows.
import { loadMnist } from '../datasets/mnist-data.ts';
import { featureSize, type Dataset } from '../datasets/dataset-types.ts';
import { TRANSFORMS, type InputTransform } from './input-transforms.ts';
import type { DeviceRow, DeviceSpec } from './shard-protocol.ts';
import { nativeRuntime, SimDevice } from './sim-device.ts';

/** Where the simulator's devices run: in this process (a DeviceGroup) or in a worker process. */
export interface Shard {
  /** Every device's latest row, in spec order. */
  rows(): DeviceRow[];
  retarget(server: string, mqttUrl: string): Promise<void>;
  /** Throws at once for a transform it cannot apply (unknown name; a function, in a worker process). */
  setTransform(cohort: string, t: InputTransform | string | null): void;
  /** Stops traffic everywhere and flushes every device's telemetry window (devices stay connected). */
  quiesce(): Promise<void>;
  close(): Promise<void>;
}

/** Park-Miller with a splitmix start: reproducible fleets from one seed. */
export function seeded(seed: number): () => number {
  let s = (seed * 2654435761) % 2147483647 || 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/** SimDevices sharing this process's onnxruntime sessions, input source and seeded random draws. */
export class DeviceGroup implements Shard {
  private constructor(
    readonly devices: SimDevice[],
    private readonly transforms: Map<string, InputTransform>,
  ) {}

  /** Builds the devices (nothing starts yet); MNIST is loaded only when devices send traffic. */
  static async create(
    specs: DeviceSpec[],
    transforms: Record<string, InputTransform | string>,
    random: () => number,
  ): Promise<DeviceGroup> {
    const byCohort = resolveTransforms(transforms);
    const input = specs.some((s) => s.rate > 0) ? await inputSource(byCohort, random) : null;
    const runtime = nativeRuntime();
    return new DeviceGroup(
      specs.map((s) => new SimDevice({ ...s, runtime, nextInput: input, random })),
      byCohort,
    );
  }

  /** Starts every agent, `concurrency` at a time; `progress` hears every hundredth. */
  start(concurrency: number, progress?: (done: number) => void): Promise<void> {
    return this.each((d) => d.start(), concurrency, progress);
  }

  /** A short string that changes whenever the device's row would (cheaper than building rows to compare them). */
  rowKey(i: number): string {
    const d = this.devices[i]!;
    const s = d.stats;
    return `${d.agent?.model?.version}|${d.agent?.state}|${d.agent?.online}|${s.predictions}|${s.errors}|${s.labelled}|${s.correct}|${s.crashes}`;
  }

  rows(): DeviceRow[] {
    return this.devices.map((_, i) => this.row(i));
  }

  row(i: number): DeviceRow {
    const d = this.devices[i]!;
    return {
      state: {
        id: d.c.id,
        cohort: d.c.cohort,
        version: d.agent?.model?.version ?? null,
        state: d.agent?.state ?? null,
        online: d.agent?.online ?? false,
        faults: Object.entries(d.c.faults)
          .filter(([, on]) => on)
          .map(([k]) => k),
        predictions: d.stats.predictions,
        crashes: d.stats.crashes,
        backlog: d.agent?.telemetryBacklog ?? 0,
      },
      stats: { ...d.stats },
    };
  }

  setTransform(cohort: string, t: InputTransform | string | null): void {
    if (t === null) this.transforms.delete(cohort);
    else this.transforms.set(cohort, resolveTransforms({ [cohort]: t }).get(cohort)!);
  }

  retarget(server: string, mqttUrl: string): Promise<void> {
    return this.each((d) => d.retarget(server, mqttUrl), 25);
  }

  quiesce(): Promise<void> {
    return this.each((d) => d.quiesce(), 50);
  }

  close(): Promise<void> {
    return this.each((d) => d.close(), 50);
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

export function resolveTransforms(transforms: Record<string, InputTransform | string>): Map<string, InputTransform> {
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
