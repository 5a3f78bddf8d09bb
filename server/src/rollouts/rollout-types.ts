// The rollout entities that leave the store: plain objects, never rows.
import type { RolloutDeviceState } from './device-state.ts';
import type { DeviceUpdateReport, RolloutBundle } from './ports.ts';
import type { GateVerdict, RolloutState, StageState, StageStats } from './rollout-machine.ts';
import type { Policy, Stage } from './rollout-spec.ts';
import type { Target } from './target.ts';

/** What the engine knows about one stage while the rollout runs. Times are ISO strings. */
export interface StageRuntime {
  state: StageState;
  activatedAt: string | null;
  /** When the stage's last device was notified: the bake runs from here. */
  bakeStartedAt: string | null;
  endedAt: string | null;
  /** Start of the rate window (activation, or the latest resume or advance). */
  rateWindowAt: string | null;
  /** Devices notified since `rateWindowAt`. */
  notifiedInWindow: number;
  /** The latest operator resume: a stage waiting for evidence gets another `timeoutSec` from here. */
  waitFrom?: string | null;
  /** The latest gate verdict, with the numbers it was made on. */
  lastVerdict: (GateVerdict & { at: string; stats: StageStats }) | null;
}

export interface Rollout {
  /** `ro_` + 12 hex digits. */
  id: string;
  state: RolloutState;
  /** Model name: a device is in at most one active rollout per model. */
  model: string;
  bundle: RolloutBundle;
  target: Target;
  stages: Stage[];
  policy: Policy;
  /** Index of the stage in progress (the last one, once completed). */
  current: number;
  runtime: StageRuntime[];
  reason: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** One line of a device's story in a rollout: engine steps and every status event the agent sent. */
export interface TimelineEntry {
  at: string;
  /** `planned`, `notified`, `status`, `promoted`, `rollback`, `superseded`, `gone`... */
  kind: string;
  /** The device's rollout state after this entry. */
  state: RolloutDeviceState;
  detail?: unknown;
}

export interface RolloutDevice {
  rolloutId: string;
  deviceId: string;
  /** Stage index, or null when the stages stop short of the whole target. */
  stage: number | null;
  /** Position in [0,1) (cohorts.ts); the notification order. */
  hash: number;
  state: RolloutDeviceState;
  /** Bundle the device ran when notified: where a rollback sends it. */
  previousBundleId: string | null;
  notifiedAt: string | null;
  updatedAt: string;
}

export interface RolloutDeviceDetail extends RolloutDevice {
  /** Oldest first; the newest 200 entries are kept. */
  timeline: TimelineEntry[];
}

/** A rollout's history: state changes, gate verdicts and every operator action (who, when, why). */
export interface RolloutEventRecord {
  id: number;
  rolloutId: string;
  at: string;
  /** Token id of the operator, or `engine`. */
  actor: string;
  /** The machine event (`pause`, `gate_failed`...) or `created`, `devices_superseded`. */
  kind: string;
  from: RolloutState | null;
  to: RolloutState | null;
  stage: number | null;
  reason: string;
  detail: unknown;
}

/** A device in a rollout as the API shows it: its row and timeline, and what it last reported of this rollout's update. */
export interface RolloutDeviceView extends RolloutDeviceDetail {
  /** What it waits on and its download progress [WIRE-2.3.1], while its report names this rollout's bundle; else null. */
  update: DeviceUpdateReport | null;
}
