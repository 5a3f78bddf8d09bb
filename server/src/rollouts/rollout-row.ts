// How a stored rollout row reads back. Both store engines (store/sqlite, store/postgres) keep the
// same columns, so the mapping belongs to the rollouts domain rather than to either engine.
import type { RolloutDeviceState } from './device-state.ts';
import type { RolloutState } from './rollout-machine.ts';
import type { Membership } from './rollout-store.ts';
import type { Rollout, RolloutDevice, RolloutEventRecord } from './rollout-types.ts';

type Row = Record<string, unknown>;

/** A JSON text column; SQL NULL reads as null. */
const jsonColumn = <T>(v: unknown): T => (v == null ? (null as T) : (JSON.parse(String(v)) as T));

/** A `rollouts` row (JSON text columns `spec`, `runtime`) as a Rollout: both store engines keep these columns. */
export const toRollout = (r: Row): Rollout => {
  const spec = jsonColumn<Pick<Rollout, 'bundle' | 'target' | 'stages' | 'policy' | 'reason'>>(r.spec);
  const rt = jsonColumn<Pick<Rollout, 'current' | 'runtime'>>(r.runtime);
  return {
    id: r.id as string,
    state: r.state as RolloutState,
    model: r.model as string,
    ...spec,
    ...rt,
    createdBy: r.created_by as string,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
};

/** A `rollout_devices` row (without its timeline) as a RolloutDevice; PostgreSQL may hand integers over as text. */
export const toRolloutDevice = (r: Row): RolloutDevice => ({
  rolloutId: r.rollout_id as string,
  deviceId: r.device_id as string,
  stage: r.stage == null ? null : Number(r.stage),
  hash: Number(r.hash),
  state: r.state as RolloutDeviceState,
  previousBundleId: (r.previous_bundle_id as string | null) ?? null,
  notifiedAt: (r.notified_at as string | null) ?? null,
  updatedAt: r.updated_at as string,
});

/** A `rollout_devices` row joined with its rollout's `state AS rollout_state`, `model` and `bundle_id`. */
export const toMembership = (r: Row): Membership => ({
  ...toRolloutDevice(r),
  rolloutState: r.rollout_state as RolloutState,
  model: r.model as string,
  bundleId: r.bundle_id as string,
});

/** A `rollout_events` row (JSON text column `detail`) as a RolloutEventRecord. */
export const toRolloutEvent = (r: Row): RolloutEventRecord => ({
  id: Number(r.id),
  rolloutId: r.rollout_id as string,
  at: r.at as string,
  actor: r.actor as string,
  kind: r.kind as string,
  from: (r.from_state as RolloutState | null) ?? null,
  to: (r.to_state as RolloutState | null) ?? null,
  stage: r.stage == null ? null : Number(r.stage),
  reason: r.reason as string,
  detail: jsonColumn(r.detail),
});
