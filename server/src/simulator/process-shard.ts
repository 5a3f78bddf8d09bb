// The simulator's handle on one worker process: starts it with its devices, mirrors their rows, sends it commands.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveTransforms, type Shard } from './device-group.ts';
import type { InputTransform } from './input-transforms.ts';
import type { DeviceRow, DeviceSpec, FromShard, ToShard } from './shard-protocol.ts';

const ENTRY = fileURLToPath(new URL('./shard-entry.mjs', import.meta.url));

/** Options of {@link ProcessShard.start}. */
export interface ProcessShardOptions {
  devices: DeviceSpec[];
  transforms: Record<string, string>;
  seed: number;
  startConcurrency: number;
  /** How often the worker reports changed rows, ms (the staleness of `rows()`). */
  reportMs: number;
  /** Devices started so far in this worker (every hundredth). */
  onStarted?: (n: number) => void;
}

/** A worker process running `devices`; `rows()` is what it last reported, at most `reportMs` old. */
export class ProcessShard implements Shard {
  private readonly latest: DeviceRow[];
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    devices: DeviceSpec[],
  ) {
    this.latest = devices.map((d) => ({
      state: {
        id: d.id,
        cohort: d.cohort,
        version: null,
        state: null,
        online: false,
        faults: Object.entries(d.faults)
          .filter(([, on]) => on)
          .map(([k]) => k),
        predictions: 0,
        crashes: 0,
        backlog: 0,
      },
      stats: { predictions: 0, errors: 0, labelled: 0, correct: 0, crashes: 0 },
    }));
  }

  /** Forks the worker and resolves once every one of its agents has started. */
  static start(o: ProcessShardOptions): Promise<ProcessShard> {
    // Not the parent's flags (a test runner's or a profiler's); FLOTILLA_SIM_WORKER_NODE_ARGS adds some
    // for the workers alone (e.g. `--cpu-prof --cpu-prof-dir=prof` to see where a worker's time goes).
    const execArgv = (process.env.FLOTILLA_SIM_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = fork(ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    const shard = new ProcessShard(child, o.devices);
    return new Promise((resolve, reject) => {
      child.on('message', (m: FromShard) => {
        if (m.t === 'ready') resolve(shard);
        else if (m.t === 'started') o.onStarted?.(m.n);
        else if (m.t === 'failed' && m.id === null) reject(new Error(`simulator worker failed: ${m.message}`));
        else shard.onMessage(m);
      });
      child.once('exit', (code, signal) => {
        shard.exited = true;
        const err = new Error(`simulator worker exited (${signal ?? code})`);
        for (const w of shard.waiting.values()) w.reject(err);
        shard.waiting.clear();
        reject(err);
      });
      shard.send({
        t: 'start',
        devices: o.devices,
        transforms: o.transforms,
        seed: o.seed,
        startConcurrency: o.startConcurrency,
        reportMs: o.reportMs,
      });
    });
  }

  rows(): DeviceRow[] {
    return this.latest;
  }

  /** The worker's process id. */
  get pid(): number {
    return this.child.pid!;
  }

  retarget(server: string, mqttUrl: string): Promise<void> {
    return this.command({ t: 'retarget', id: this.nextId++, server, mqttUrl });
  }

  setTransform(cohort: string, t: InputTransform | string | null): void {
    if (typeof t === 'function')
      throw new Error('devices in worker processes take input transforms by name (see TRANSFORMS), not as functions');
    if (t !== null) resolveTransforms({ [cohort]: t }); // an unknown name throws here, not in the worker
    // Fire and forget, like the in-process setter: the name was checked, so the worker cannot refuse it.
    this.command({ t: 'transform', id: this.nextId++, cohort, name: t }).catch(() => undefined);
  }

  quiesce(): Promise<void> {
    return this.command({ t: 'quiesce', id: this.nextId++ });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.command({ t: 'close', id: this.nextId++ }).catch(() => undefined);
    // Agents close within a few seconds; a worker that hangs past that is ended.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  }

  private onMessage(m: FromShard): void {
    if (m.t === 'rows') for (const [i, row] of m.rows) this.latest[i] = row;
    else if (m.t === 'done' || m.t === 'failed') {
      const w = m.id === null ? undefined : this.waiting.get(m.id);
      if (!w || m.id === null) return;
      this.waiting.delete(m.id);
      if (m.t === 'done') w.resolve();
      else w.reject(new Error(`simulator worker: ${m.message}`));
    }
  }

  private command(m: Extract<ToShard, { id: number }>): Promise<void> {
    if (this.exited) return Promise.reject(new Error('simulator worker has exited'));
    return new Promise((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.send(m);
    });
  }

  private send(m: ToShard): void {
    this.child.send(m);
  }
}
