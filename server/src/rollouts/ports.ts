// The engine's ports: what it needs from the fleet, delivery, monitoring and the registry, and a clock.
// The composition root writes the adapters (see index.ts); tests use in-memory fakes.
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import type { StageStats } from './rollout-machine.ts';
import type { Target, TargetFacts } from './target.ts';
import type { RolloutUpdatePolicy } from './update-control.ts';

/** The bundle a rollout delivers, exactly as a desired state names it [WIRE-2.2]. */
export type RolloutBundle = BundleRef;

/** A device as the rollout engine sees it. */
export interface TargetDevice extends TargetFacts {
  online: boolean;
  /** Bundle id the device runs (or was last told to run) before this rollout; a rollback returns it there. */
  currentBundleId: string | null;
  /** The update in flight as the device last reported it [WIRE-2.3.1]: what it waits on, download progress. */
  update?: DeviceUpdateReport | null;
}

/** A device's latest report of its update in flight [WIRE-2.3.1]. */
export interface DeviceUpdateReport {
  bundleId: string;
  waiting: { kind: string; reason: string; since: string; until?: string } | null;
  progress: { bytes: number; totalBytes: number; chunks: number; totalChunks: number } | null;
  attempt: number;
}

/** The fleet. Revoked devices are never listed. */
export interface DeviceDirectory {
  /** Every device matching `target` under `matchesTarget`'s rule. */
  list(target: Target): Promise<TargetDevice[]>;
  /** These devices; unknown or revoked ids are left out. */
  get(ids: readonly string[]): Promise<TargetDevice[]>;
  /**
   * How many devices match `target`, and how many of them are online, counted where the devices are
   * (SQL) without listing them; null when this directory cannot count such a target and `list` must.
   */
  count?(target: Target): Promise<{ matching: number; online: number } | null>;
}

/** How a rollout's desired state goes out [WIRE-2.2.2]. */
export interface DesiredOptions {
  /** The rollout's update policy, resolved per device by the adapter (the zone comes from an attribute). */
  update?: RolloutUpdatePolicy;
  /** Bump the devices' retry nonce, so agents try a bundle that failed there again. */
  retry?: boolean;
}

/**
 * Delivery. Calls must be idempotent: the engine calls a port first and records the result after, so
 * a crash in between repeats the call (at least once) rather than losing it.
 */
export interface DesiredStatePort {
  /**
   * Publishes each device's desired state (retained, so offline devices get it when they return):
   * the bundle, or `{ rollbackTo }` = the bundle id the device ran before (null: no model at all),
   * which the adapter publishes with `rollback: true`.
   */
  setDesired(deviceIds: readonly string[], what: RolloutBundle | { rollbackTo: string | null }, opts?: DesiredOptions): Promise<void>;
  /** Sets (or, with null, clears) the shadow bundle that runs beside the serving one [WIRE-2.2 `shadow`]. */
  setShadow(deviceIds: readonly string[], bundle: RolloutBundle | null): Promise<void>;
}

export interface StageQuery {
  rolloutId: string;
  stage: number;
  bundle: RolloutBundle;
  /** True: measure the shadow model (requests, errors, agreement, latency from `TelemetryWindow.shadow`). */
  shadow: boolean;
  /** The stage's notified devices. */
  deviceIds: readonly string[];
  /** ISO time the stage began; older telemetry says nothing about this bundle. */
  since: string;
}

/** Monitoring's measurements for a stage; `devices` and `failed` the engine counts itself. */
export type StageHealth = Omit<StageStats, 'devices' | 'failed'>;

export interface HealthPort {
  stageStats(q: StageQuery): Promise<StageHealth>;
}

/** The registry: a bundle id, or `NAME@VERSION` (that version's newest bundle). */
export interface BundleResolver {
  resolve(ref: { bundle: string } | { model: string }): Promise<RolloutBundle | null>;
}

/** Milliseconds since the epoch. Injected so tests (and a resumed engine) see the time they are given. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
