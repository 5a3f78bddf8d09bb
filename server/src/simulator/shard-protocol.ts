// What the simulator and its worker processes say to each other over the IPC channel.
import type { SimDeviceConfig, SimDeviceStats } from './sim-device.ts';

/** A device as a worker process receives it: its config without the parts that are functions. */
export type DeviceSpec = Omit<SimDeviceConfig, 'runtime' | 'nextInput' | 'random'>;

/** One device as the simulator sees it (reported by its worker process, hence here). */
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
  /** Telemetry windows queued on the device and not yet acknowledged by the server. */
  backlog: number;
}

/** One device's state and counters, as reported to the simulator. */
export interface DeviceRow {
  state: SimDeviceState;
  stats: SimDeviceStats;
}

/** Parent → worker. Commands carry an `id` the worker answers with `done` (or `failed`). */
export type ToShard =
  | { t: 'start'; devices: DeviceSpec[]; transforms: Record<string, string>; seed: number; startConcurrency: number; reportMs: number }
  | { t: 'retarget'; id: number; server: string; mqttUrl: string }
  | { t: 'transform'; id: number; cohort: string; name: string | null }
  | { t: 'quiesce'; id: number }
  | { t: 'close'; id: number };

/** Worker → parent. `rows` holds only the devices whose row changed since the last report, by index. */
export type FromShard =
  | { t: 'started'; n: number }
  | { t: 'ready' }
  | { t: 'rows'; rows: [number, DeviceRow][] }
  | { t: 'done'; id: number }
  | { t: 'failed'; id: number | null; message: string };
