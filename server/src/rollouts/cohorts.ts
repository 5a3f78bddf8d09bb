// Deterministic, stable assignment of devices to a rollout's stages.
//
// Every device gets a position hash(rolloutId, deviceId) in [0,1). Devices are taken in hash order
// and each stage takes as many as its size asks for (percent of the whole target, cumulative; or a
// count), so stage sizes are exact, not just right on average: a 10% canary of 20 devices is 2
// devices, where "hash below 0.1" could give anything from 0 to 6. Assignments are persisted, and
// re-planning (late joiners) only places NEW devices, into the free places of each stage in hash
// order, so no device ever moves between stages.
import { createHash } from 'node:crypto';

/** A stage's size as the planner sees it. */
export interface StageSize {
  percent?: number;
  count?: number;
}

/** Where a device lands: a stage index, or null when the stages stop short of 100% of the target. */
export type Cohort = number | null;

/** The device's position in [0, 1) for this rollout: 48 bits of sha256(rolloutId NUL deviceId). */
export function cohortHash(rolloutId: string, deviceId: string): number {
  const d = createHash('sha256').update(`${rolloutId}\0${deviceId}`).digest();
  return d.readUIntBE(0, 6) / 2 ** 48;
}

/** Sorts device ids by their position in this rollout (ties, which sha256 makes unlikely, by id). */
export function hashOrder(rolloutId: string, ids: Iterable<string>): string[] {
  return [...ids]
    .map((id) => ({ id, h: cohortHash(rolloutId, id) }))
    .sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((x) => x.id);
}

/**
 * Cumulative device count each stage reaches for `total` devices. Percent stages round up, so any
 * non-empty target gets a non-empty first stage; count stages add their count. Never above `total`.
 */
export function cumulativeQuotas(stages: readonly StageSize[], total: number): number[] {
  let cum = 0;
  return stages.map((s) => {
    if (s.count !== undefined) cum = Math.min(total, cum + s.count);
    // The epsilon keeps 10% of 30 at 3 devices, not 4 from 3.0000000000000004.
    else cum = Math.max(cum, Math.min(total, Math.ceil(((s.percent ?? 0) * total) / 100 - 1e-9)));
    return cum;
  });
}

/**
 * Plans `deviceIds` into stages, keeping every device of `existing` where it is. Returns the whole
 * assignment (existing plus new). Pure: the same inputs give the same plan on any machine.
 */
export function planCohorts(
  rolloutId: string,
  stages: readonly StageSize[],
  deviceIds: Iterable<string>,
  existing: ReadonlyMap<string, Cohort> = new Map(),
): Map<string, Cohort> {
  const plan = new Map(existing);
  const newcomers = hashOrder(rolloutId, new Set([...deviceIds].filter((id) => !existing.has(id))));
  if (newcomers.length === 0) return plan;
  const total = existing.size + newcomers.length;
  const cum = cumulativeQuotas(stages, total);
  // Buckets: one per stage, then "beyond the last stage" (null).
  const capacity = [...cum.map((c, i) => c - (i === 0 ? 0 : cum[i - 1]!)), total - (cum.at(-1) ?? 0)];
  const taken = new Array<number>(capacity.length).fill(0);
  for (const c of existing.values()) taken[c === null ? stages.length : c]! += 1;
  let bucket = 0;
  for (const id of newcomers) {
    while (bucket < capacity.length - 1 && taken[bucket]! >= capacity[bucket]!) bucket += 1;
    taken[bucket]! += 1;
    plan.set(id, bucket === stages.length ? null : bucket);
  }
  return plan;
}
