// The RolloutStore seam: rollouts, their devices (stage, state, timeline) and their event history.
import { isMember, type RolloutDeviceState } from './device-state.ts';
import type { RolloutState } from './rollout-machine.ts';
import type { Rollout, RolloutDevice, RolloutDeviceDetail, RolloutEventRecord, TimelineEntry } from './rollout-types.ts';

/** A device's new state in one rollout, with the timeline entry that explains it. */
export interface DeviceChange {
  rolloutId: string;
  deviceId: string;
  state: RolloutDeviceState;
  entry: TimelineEntry;
  previousBundleId?: string | null;
  notifiedAt?: string;
}

/** Everything one engine step changes; a store applies it all or nothing. */
export interface RolloutWrite {
  /** Inserted when new, replaced otherwise. */
  rollout?: Rollout;
  /** New device rows; each gets `timeline: [entry]`. */
  addDevices?: { device: RolloutDevice; entry: TimelineEntry }[];
  changes?: DeviceChange[];
  events?: Omit<RolloutEventRecord, 'id'>[];
}

/**
 * Whether a device's row takes a status event naming `bundleId`: a device being rolled back reports on
 * the bundle it goes back to; any other member that was told reports on the rollout's bundle.
 */
export const claims = (m: Membership, bundleId: string | null): boolean =>
  m.state === 'rollback_pending' || m.state === 'rolled_back'
    ? m.previousBundleId === bundleId
    : isMember(m.state) && m.state !== 'planned' && m.bundleId === bundleId;

/** A device's row in some rollout, with what the conflict rule and status routing need of the rollout. */
export interface Membership extends RolloutDevice {
  rolloutState: RolloutState;
  model: string;
  bundleId: string;
}

export interface RolloutStore {
  /** Applies the whole write in one transaction. */
  write(w: RolloutWrite): Promise<void>;
  get(id: string): Promise<Rollout | null>;
  /** Newest first; `limit` defaults to 100. */
  list(filter?: { states?: readonly RolloutState[]; model?: string; limit?: number }): Promise<Rollout[]>;
  /** Device rows without timelines, by stage then hash (the notification order). */
  devices(rolloutId: string, filter?: { stage?: number; states?: readonly RolloutDeviceState[] }): Promise<RolloutDevice[]>;
  device(rolloutId: string, deviceId: string): Promise<RolloutDeviceDetail | null>;
  /** This device's rows across rollouts, newest rollout first. */
  memberships(deviceId: string): Promise<Membership[]>;
  /**
   * The row a status event naming `bundleId` belongs to: the first of `memberships(deviceId)` that
   * {@link claims} the bundle, found in the database (a device in a hundred past rollouts sends a status
   * message per install step; reading all its rows each time grew with every rollout). Null when none does.
   */
  claimant(deviceId: string, bundleId: string | null): Promise<Membership | null>;
  /**
   * Which of `deviceIds` belong (state neither excluded nor superseded) to an active rollout
   * (draft, running, paused, waiting_approval) of `model`, other than `exceptRolloutId`.
   */
  holders(model: string, deviceIds: readonly string[], exceptRolloutId?: string): Promise<{ deviceId: string; rolloutId: string }[]>;
  /** Device counts by stage (null: beyond the last stage) and state. */
  counts(rolloutId: string): Promise<{ stage: number | null; state: RolloutDeviceState; count: number }[]>;
  /** Oldest first. */
  events(rolloutId: string, limit?: number): Promise<RolloutEventRecord[]>;
}
