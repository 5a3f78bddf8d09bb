// The status view of a rollout: its state, each stage's progress and verdict, and device counts by state.
import { WAITING_STATES, type RolloutDeviceState } from './device-state.ts';
import type { WaitKind } from '@flotilla/firmware-bundler/wire';
import { allowedEvents, type RolloutEvent, type StageState } from './rollout-machine.ts';
import type { Stage } from './rollout-spec.ts';
import type { Rollout, StageRuntime } from './rollout-types.ts';

const OPERATOR_EVENTS: readonly RolloutEvent[] = ['start', 'pause', 'resume', 'advance', 'abort', 'rollback'];

export interface StageStatus {
  index: number;
  percent: number | null;
  count: number | null;
  shadow: boolean;
  bakeSec: number;
  state: StageState;
  activatedAt: string | null;
  bakeStartedAt: string | null;
  /** When the bake ends (ISO), once it has started. */
  bakeEndsAt: string | null;
  endedAt: string | null;
  /** Devices assigned to the stage (superseded and gone ones included, by state). */
  devices: number;
  counts: Partial<Record<RolloutDeviceState, number>>;
  /** Devices that wait, by what on [WIRE-2.4.2]: a maintenance window, the app's lock, a condition, the network (a retry). */
  waiting: Record<WaitKind, number>;
  verdict: StageRuntime['lastVerdict'];
}

export interface RolloutStatus extends Omit<Rollout, 'runtime' | 'stages'> {
  /** Devices in the rollout by state, all stages together (`excluded`: beyond the last stage). */
  counts: Partial<Record<RolloutDeviceState, number>>;
  /** Devices in the stages (not excluded). */
  devices: number;
  stages: (StageStatus & Pick<Stage, 'timeoutSec' | 'gates'>)[];
  /** Operator actions the state allows now. */
  actions: RolloutEvent[];
}

/** Builds the status view from a rollout and its device counts. */
export function buildStatus(r: Rollout, counts: { stage: number | null; state: RolloutDeviceState; count: number }[]): RolloutStatus {
  const total: Partial<Record<RolloutDeviceState, number>> = {};
  for (const c of counts) total[c.state] = (total[c.state] ?? 0) + c.count;
  const { runtime, ...rest } = r;
  return {
    ...rest,
    counts: total,
    devices: counts.filter((c) => c.stage !== null).reduce((n, c) => n + c.count, 0),
    stages: r.stages.map((s, i) => {
      const rt = runtime[i]!;
      const mine = counts.filter((c) => c.stage === i);
      return {
        timeoutSec: s.timeoutSec,
        gates: s.gates,
        index: i,
        percent: s.percent ?? null,
        count: s.count ?? null,
        shadow: s.shadow,
        bakeSec: s.bakeSec,
        state: rt.state,
        activatedAt: rt.activatedAt,
        bakeStartedAt: rt.bakeStartedAt,
        bakeEndsAt: rt.bakeStartedAt ? new Date(Date.parse(rt.bakeStartedAt) + s.bakeSec * 1000).toISOString() : null,
        endedAt: rt.endedAt,
        devices: mine.reduce((n, c) => n + c.count, 0),
        counts: Object.fromEntries(mine.map((c) => [c.state, c.count])),
        verdict: rt.lastVerdict,
        waiting: waitingOf(mine),
      };
    }),
    actions: allowedEvents('rollout', r.state).filter((e) => OPERATOR_EVENTS.includes(e)),
  };
}

/** Per-stage counts of waiting devices, by kind. */
function waitingOf(counts: { state: RolloutDeviceState; count: number }[]): Record<WaitKind, number> {
  const out = { window: 0, lock: 0, condition: 0, network: 0 };
  for (const [kind, state] of Object.entries(WAITING_STATES) as [WaitKind, RolloutDeviceState][]) {
    out[kind] = counts.filter((c) => c.state === state).reduce((n, c) => n + c.count, 0);
  }
  return out;
}
