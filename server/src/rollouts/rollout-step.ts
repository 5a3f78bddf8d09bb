// One engine step on one rollout: applies machine transitions in memory and collects the write that
// records them, so a step is persisted all at once (or not at all, when a transition is refused).
import type { RolloutDeviceState } from './device-state.ts';
import { transition, type RolloutEvent, type StageEvent } from './rollout-machine.ts';
import type { DeviceChange, RolloutWrite } from './rollout-store.ts';
import type { Rollout, RolloutDevice, RolloutEventRecord, StageRuntime, TimelineEntry } from './rollout-types.ts';

/** The runtime of a stage nobody has touched. */
export const pendingStage = (): StageRuntime => ({
  state: 'pending',
  activatedAt: null,
  bakeStartedAt: null,
  endedAt: null,
  rateWindowAt: null,
  notifiedInWindow: 0,
  lastVerdict: null,
});

export class RolloutStep {
  readonly at: string;
  private readonly added: NonNullable<RolloutWrite['addDevices']> = [];
  private readonly changes: DeviceChange[] = [];
  private readonly events: Omit<RolloutEventRecord, 'id'>[] = [];

  /** `rows`: the rollout's device rows in notification order; kept current as the step changes them. */
  constructor(
    readonly r: Rollout,
    readonly rows: RolloutDevice[],
    readonly nowMs: number,
  ) {
    this.at = new Date(nowMs).toISOString();
  }

  get stage(): StageRuntime {
    return this.r.runtime[this.r.current]!;
  }

  /** Moves the rollout through the table (throws ILLEGAL_TRANSITION) and records who, when and why. */
  fire(event: RolloutEvent, actor: string, reason: string, detail: unknown = null): void {
    const from = this.r.state;
    this.r.state = transition('rollout', from, event);
    this.events.push({
      rolloutId: this.r.id,
      at: this.at,
      actor,
      kind: event,
      from,
      to: this.r.state,
      stage: this.r.current,
      reason,
      detail,
    });
  }

  /** Records an event that changes no rollout state (creation, superseded devices). */
  note(kind: string, actor: string, reason: string, detail: unknown = null, rolloutId = this.r.id): void {
    this.events.push({
      rolloutId,
      at: this.at,
      actor,
      kind,
      from: null,
      to: null,
      stage: rolloutId === this.r.id ? this.r.current : null,
      reason,
      detail,
    });
  }

  /** Moves stage `i` through the table and stamps its times. */
  stageEvent(i: number, event: StageEvent): void {
    const rt = this.r.runtime[i]!;
    rt.state = transition('stage', rt.state, event);
    if (event === 'activate') Object.assign(rt, { activatedAt: this.at, rateWindowAt: this.at, notifiedInWindow: 0, bakeStartedAt: null });
    if (event === 'pass' || event === 'fail') rt.endedAt = this.at;
  }

  addDevice(d: RolloutDevice, kind: string, detail?: unknown): void {
    this.added.push({ device: d, entry: { at: this.at, kind, state: d.state, ...(detail === undefined ? {} : { detail }) } });
    this.rows.push(d);
  }

  /** Changes a device row of this rollout (in memory and in the write). */
  device(
    row: RolloutDevice,
    state: RolloutDeviceState,
    kind: string,
    detail?: unknown,
    extra: Pick<DeviceChange, 'previousBundleId' | 'notifiedAt'> = {},
  ): void {
    row.state = state;
    row.updatedAt = this.at;
    if (extra.previousBundleId !== undefined) row.previousBundleId = extra.previousBundleId;
    if (extra.notifiedAt !== undefined) row.notifiedAt = extra.notifiedAt;
    this.changes.push({ rolloutId: this.r.id, deviceId: row.deviceId, state, entry: this.entry(kind, state, detail), ...extra });
  }

  /** Changes a device row of another rollout (the conflict rule's supersede). */
  foreignDevice(rolloutId: string, deviceId: string, state: RolloutDeviceState, kind: string, detail?: unknown): void {
    this.changes.push({ rolloutId, deviceId, state, entry: this.entry(kind, state, detail) });
  }

  toWrite(): RolloutWrite {
    this.r.updatedAt = this.at;
    return { rollout: this.r, addDevices: this.added, changes: this.changes, events: this.events };
  }

  private entry(kind: string, state: RolloutDeviceState, detail: unknown): TimelineEntry {
    return { at: this.at, kind, state, ...(detail === undefined ? {} : { detail }) };
  }
}
