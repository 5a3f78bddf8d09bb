// RolloutEngine: creates rollouts, drives them on each tick, takes operator actions and agent status
// events. All state lives in the RolloutStore, so a new engine on the same store resumes exactly.
import { randomBytes } from 'node:crypto';
import { cohortHash, cumulativeQuotas, planCohorts } from './cohorts.ts';
import { currentStall, nextDeviceState, type RolloutDeviceState } from './device-state.ts';
import type { DeployState } from '@flotilla/firmware-bundler/wire';
import type { BundleResolver, Clock, DesiredStatePort, DeviceDirectory, HealthPort } from './ports.ts';
import { systemClock } from './ports.ts';
import { HeavyReads } from './heavy-reads.ts';
import { RolloutError } from './rollout-error.ts';
import { transition, type RolloutState } from './rollout-machine.ts';
import { parseRolloutRequest, type Stage } from './rollout-spec.ts';
import { pendingStage, RolloutStep } from './rollout-step.ts';
import { claims, type DeviceChange, type RolloutStore } from './rollout-store.ts';
import type { Rollout, RolloutDevice, RolloutDeviceView, RolloutEventRecord, TimelineEntry } from './rollout-types.ts';
import { leaveStage, notifyDue, passStage, judge, retryFailed, revertStages, takeLateJoiners, type DriverDeps } from './stage-driver.ts';
import { schedulePhase } from './update-control.ts';
import { markSilentMembers } from './silent-members.ts';
import type { WaitKind } from '@flotilla/firmware-bundler/wire';
import { buildStatus, type RolloutStatus } from './rollout-status.ts';
import type { EventPublisher } from '../events/event-publisher.ts';
import { publishRolloutEvents } from './rollout-events.ts';
import type { Target } from './target.ts';

export interface RolloutEngineDeps {
  store: RolloutStore;
  devices: DeviceDirectory;
  desired: DesiredStatePort;
  health: HealthPort;
  bundles: BundleResolver;
  /** Default: the system clock. */
  clock?: Clock;
  /** Also records creation and every operator action in the server-wide audit trail, when given. */
  audit?: { record(a: { actor: string; action: string; subject: string; detail: unknown }): Promise<void> };
  /** Default: `ro_` + 12 random hex digits. */
  newId?: () => string;
  /** Who ticks' decisions are recorded as (default `engine`); the server passes `engine@<lease holder>`. */
  actor?: string;
  /**
   * Serializes operations with the engines of other server processes on the same store (default: this
   * process only). Each operation reads the rollout, decides and writes it whole, so two processes
   * interleaving on one rollout (a tick and a pause, two status events) would overwrite each other.
   */
  mutex?: { run<T>(fn: () => Promise<T>): Promise<T> };
  /** Publishes each transition (`rollout.created`, `rollout.stage_passed`, ...) after its write committed. */
  events?: EventPublisher;
  /**
   * How long a device may be `stalled` (its storage failing) before the rollout records and publishes a
   * `rollout.device_stalled` event, seconds (default {@link DEFAULT_STALL_REPORT_SEC}). Judged when the
   * device reports the stall again (its agent retries without limit, backing off to 5 minutes).
   */
  stallReportSec?: number;
  /**
   * How long a notified device may send no status event before the rollout marks it `stalled`, seconds
   * (silent-members.ts); judged on every tick of a running rollout. Off when absent (the server passes
   * FLOTILLA_ROLLOUT_SILENT_SEC, default DEFAULT_SILENT_SEC of silent-members.ts).
   */
  silentSec?: number;
}

/** Default of {@link RolloutEngineDeps.stallReportSec}: ten minutes. */
export const DEFAULT_STALL_REPORT_SEC = 600;

export type OperatorAction = 'start' | 'pause' | 'resume' | 'advance' | 'abort' | 'rollback';
export const OPERATOR_ACTIONS: readonly OperatorAction[] = ['start', 'pause', 'resume', 'advance', 'abort', 'rollback'];

/** A deployment status event [WIRE-2.4] as the engine needs it. */
export interface DeviceStatus {
  bundleId: string | null;
  from: DeployState;
  to: DeployState;
  event?: string;
  reason?: string;
  /** The device's own clock, kept in the timeline; the engine's clock orders entries. */
  at?: string;
  /** What the agent waits on [WIRE-2.4.2] (waiting states only). */
  waiting?: { kind: WaitKind; reason?: string; since?: string; until?: string };
  /** Failures [WIRE-2.4.3]: whether the agent gave up for good, and when it tries again (transient ones). */
  permanent?: boolean;
  retryAt?: string;
  /**
   * The agent's status sequence [WIRE-2.4] (persisted with its update state, so it grows across
   * restarts). An event at or below the newest one recorded is a repeat or arrived late (at least
   * once delivery; several server processes each taking events): it must not move the state back.
   */
  seq?: number;
}

/** Status events decided and written together at most; bounds one turn's work while events pour in. */
const STATUS_BATCH = 200;

interface QueuedStatus {
  deviceId: string;
  ev: DeviceStatus;
  resolve: (r: { rolloutId: string; state: string } | null) => void;
  reject: (e: unknown) => void;
}

/**
 * Per `rolloutId\ndeviceId`: the state and timeline entries a batch decided but has not written yet; per
 * plain `deviceId`: null, marking a device with such changes.
 */
type StatusOverlay = Map<string, { state: RolloutDeviceState; entries: TimelineEntry[] } | null>;

export interface TickReport {
  stepped: string[];
  errors: { rolloutId: string; code: string; message: string }[];
}

export class RolloutEngine {
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly driver: DriverDeps;
  private readonly heavy = new HeavyReads();
  private queue: Promise<unknown> = Promise.resolve();
  /** Status events waiting for the engine's next turn (see recordStatus). */
  private readonly statusQueue: QueuedStatus[] = [];

  constructor(private readonly deps: RolloutEngineDeps) {
    this.clock = deps.clock ?? systemClock;
    this.newId = deps.newId ?? (() => `ro_${randomBytes(6).toString('hex')}`);
    this.driver = { store: deps.store, devices: deps.devices, desired: deps.desired, health: deps.health, actor: deps.actor };
  }

  /**
   * Validates, resolves the bundle, plans cohorts and applies the conflict rule: a device is in at
   * most one active rollout per model. Devices held by another active rollout of the same model make
   * the request fail with ROLLOUT_CONFLICT, unless it says `supersede: true`; then those devices are
   * marked `superseded` in the older rollout (which stops notifying, judging and rolling them back)
   * and this rollout takes them over. Starts the rollout (and notifies its first devices) unless `draft`.
   */
  create(input: unknown, actor: string): Promise<RolloutStatus> {
    return this.serial(async () => {
      const spec = parseRolloutRequest(input);
      if (spec.policy.schedule?.endAt && Date.parse(spec.policy.schedule.endAt) <= this.clock.now()) {
        throw new RolloutError(
          'INVALID_ROLLOUT',
          `policy.schedule.endAt: ${spec.policy.schedule.endAt} has passed; give a later end or none`,
        );
      }
      const ref = spec.bundle !== undefined ? { bundle: spec.bundle } : { model: spec.model! };
      const bundle = await this.deps.bundles.resolve(ref);
      if (!bundle)
        throw new RolloutError('BUNDLE_NOT_FOUND', `no bundle for ${spec.bundle ?? spec.model}: build one first (flotilla bundle create)`);
      const targets = await this.deps.devices.list(spec.target);
      if (targets.length === 0)
        throw new RolloutError('NO_MATCHING_DEVICES', 'no device matches the target; check it with GET /rollouts/preview');
      const id = this.newId();
      const plan = planCohorts(
        id,
        spec.stages,
        targets.map((t) => t.id),
      );
      const members = [...plan].filter(([, s]) => s !== null).map(([d]) => d);
      const held = await this.deps.store.holders(bundle.model, members);
      if (held.length > 0 && !spec.supersede) {
        const rollouts = [...new Set(held.map((h) => h.rolloutId))];
        throw new RolloutError(
          'ROLLOUT_CONFLICT',
          `${held.length} device(s) are already in active rollout(s) ${rollouts.join(', ')} of model ${bundle.model}; finish or abort those, or pass supersede: true`,
          { rollouts, devices: held.slice(0, 20), count: held.length },
        );
      }
      const at = new Date(this.clock.now()).toISOString();
      const r: Rollout = {
        id,
        state: 'draft',
        model: bundle.model,
        bundle,
        target: spec.target,
        stages: spec.stages,
        policy: spec.policy,
        current: 0,
        runtime: spec.stages.map(pendingStage),
        reason: spec.reason,
        createdBy: actor,
        createdAt: at,
        updatedAt: at,
      };
      const step = new RolloutStep(r, [], this.clock.now());
      step.note('created', actor, spec.reason, {
        bundle: bundle.id,
        version: bundle.version,
        devices: members.length,
        matching: targets.length,
      });
      for (const [deviceId, stage] of plan) {
        step.addDevice(
          {
            rolloutId: id,
            deviceId,
            stage,
            hash: cohortHash(id, deviceId),
            state: stage === null ? 'excluded' : 'planned',
            previousBundleId: null,
            notifiedAt: null,
            updatedAt: at,
          },
          'planned',
          { stage },
        );
      }
      for (const h of held) step.foreignDevice(h.rolloutId, h.deviceId, 'superseded', 'superseded', { by: id });
      for (const old of new Set(held.map((h) => h.rolloutId))) {
        step.note(
          'devices_superseded',
          actor,
          `superseded by ${id}`,
          { by: id, count: held.filter((h) => h.rolloutId === old).length },
          old,
        );
      }
      if (!spec.draft) {
        step.fire('start', actor, spec.reason);
        step.stageEvent(0, 'activate');
      }
      await this.persist(step);
      await this.audit(actor, 'rollout.create', id, {
        bundle: bundle.id,
        model: bundle.model,
        reason: spec.reason,
        superseded: held.length,
      });
      if (r.state === 'running') await this.step(id);
      return this.statusOf(id);
    });
  }

  /** Operator action on a rollout, recorded with who and why; illegal ones fail with ILLEGAL_TRANSITION. */
  act(id: string, action: OperatorAction, actor: string, reason: string): Promise<RolloutStatus> {
    return this.serial(async () => {
      const step = await this.load(id);
      const { r } = step;
      const from = r.state;
      const stageBefore = r.current;
      if (action === 'start') {
        step.fire('start', actor, reason);
        step.stageEvent(0, 'activate');
      } else if (action === 'pause') {
        step.fire(action, actor, reason);
      } else if (action === 'abort') {
        step.fire(action, actor, reason);
        // Aborting leaves serving devices as they are, but a shadow run has no reason to go on.
        if (r.stages[r.current]!.shadow) await revertStages(this.driver, step, [r.current], `aborted by ${actor}: ${reason}`);
      } else if (action === 'resume') {
        step.fire('resume', actor, reason);
        // A fresh rate window: a long pause must not bank a burst of notifications. A fresh wait for
        // evidence too; the step below judges the gates again at once, so a stage paused by its gates
        // proceeds if they pass now, or pauses again with the fresh reasons.
        Object.assign(step.stage, { rateWindowAt: step.at, notifiedInWindow: 0, waitFrom: step.at });
      } else if (action === 'advance') {
        transition('rollout', r.state, 'advance');
        if (step.stage.state === 'passed') await leaveStage(this.driver, step, actor, reason, 'advance');
        else await passStage(this.driver, step, actor, reason, true);
      } else {
        step.fire('rollback', actor, reason);
        const touched = r.runtime.map((s, i) => (s.state === 'pending' ? -1 : i)).filter((i) => i >= 0);
        await revertStages(this.driver, step, touched, `rolled back by ${actor}: ${reason}`);
        for (const i of touched) if (r.runtime[i]!.state !== 'rolled_back') step.stageEvent(i, 'rollback');
      }
      await this.persist(step);
      await this.audit(actor, `rollout.${action}`, id, { reason, from, to: r.state, stage: stageBefore });
      if (r.state === 'running') await this.step(id);
      return this.statusOf(id);
    });
  }

  /**
   * Operator retry [issue 18]: the failed devices of `stage` get the desired state again with a new retry
   * nonce, so their agents try the bundle once more. Refused on a finished or draft rollout.
   */
  retry(id: string, stage: number, actor: string, reason: string): Promise<RolloutStatus & { retried: number }> {
    return this.serial(async () => {
      const step = await this.load(id);
      const { r } = step;
      if (!['running', 'paused', 'waiting_approval'].includes(r.state)) {
        throw new RolloutError('ILLEGAL_TRANSITION', `cannot retry devices of a rollout that is ${r.state.replace(/_/g, ' ')}`, {
          from: r.state,
          event: 'retry',
        });
      }
      if (!Number.isInteger(stage) || stage < 0 || stage >= r.stages.length) {
        throw new RolloutError('INVALID_ROLLOUT', `stage ${stage} does not exist: the rollout has stages 0 to ${r.stages.length - 1}`);
      }
      const retried = await retryFailed(this.driver, step, stage, actor, reason);
      step.note('retry', actor, reason, { stage, devices: retried });
      await this.deps.store.write(step.toWrite());
      await this.audit(actor, 'rollout.retry', id, { reason, stage, devices: retried });
      return { ...(await this.statusOf(id)), retried };
    });
  }

  /** Drives every running rollout one step; one rollout's failure does not stop the others. */
  tick(): Promise<TickReport> {
    return this.serial(async () => {
      const report: TickReport = { stepped: [], errors: [] };
      for (const r of await this.deps.store.list({ states: ['running'], limit: 10_000 })) {
        try {
          await this.step(r.id);
          report.stepped.push(r.id);
        } catch (e) {
          const err = e as Error & { code?: string };
          report.errors.push({ rolloutId: r.id, code: err.code ?? 'INTERNAL', message: err.message });
        }
      }
      return report;
    });
  }

  /**
   * Records a device's status event in the rollout it belongs to: the newest rollout whose bundle the
   * event names (or, for a device being rolled back, whose previous bundle it names). Returns where it
   * went, or null when no rollout claims it.
   *
   * Group commit: events that arrive while the engine is busy (a step notifying a stage, an earlier
   * batch) wait in a queue, and the next turn decides them all and writes them in one transaction.
   * Each promise settles once its event is written (or failed), so nothing is reported recorded before it is.
   */
  recordStatus(deviceId: string, ev: DeviceStatus): Promise<{ rolloutId: string; state: string } | null> {
    return new Promise((resolve, reject) => {
      this.statusQueue.push({ deviceId, ev, resolve, reject });
      // A non-empty queue always has one drain scheduled: the first event in schedules it.
      if (this.statusQueue.length === 1) void this.serial(() => this.drainStatuses());
    });
  }

  /** Takes up to {@link STATUS_BATCH} queued status events, decides each, and writes them in one transaction. */
  private async drainStatuses(): Promise<void> {
    const batch = this.statusQueue.splice(0, STATUS_BATCH);
    if (this.statusQueue.length > 0) void this.serial(() => this.drainStatuses());
    const overlay: StatusOverlay = new Map();
    const changes: DeviceChange[] = [];
    const events: Omit<RolloutEventRecord, 'id'>[] = [];
    const decided: { item: QueuedStatus; result: { rolloutId: string; state: string } | null }[] = [];
    for (const item of batch) {
      try {
        const d = await this.decideStatus(item.deviceId, item.ev, overlay);
        if (d.change) changes.push(d.change);
        events.push(...d.events);
        decided.push({ item, result: d.result });
      } catch (e) {
        item.reject(e);
      }
    }
    try {
      if (changes.length || events.length) await this.deps.store.write({ changes, events });
    } catch (e) {
      for (const { item } of decided) item.reject(e);
      return;
    }
    for (const { item, result } of decided) item.resolve(result);
    for (const rolloutId of new Set(events.map((e) => e.rolloutId))) {
      const r = await this.deps.store.get(rolloutId);
      if (r)
        await publishRolloutEvents(
          this.deps.events,
          r,
          events.filter((e) => e.rolloutId === rolloutId),
        ).catch(() => undefined);
    }
  }

  /**
   * What one status event changes. `overlay` carries the changes decided earlier in the same batch (not
   * written yet, so the store cannot show them): a device's second event in a batch sees its first.
   */
  private async decideStatus(
    deviceId: string,
    ev: DeviceStatus,
    overlay: StatusOverlay,
  ): Promise<{ result: { rolloutId: string; state: string } | null; change?: DeviceChange; events: Omit<RolloutEventRecord, 'id'>[] }> {
    // The store finds the row, unless this batch already changed one of the device's rows: then its rows
    // are read with those changes over them, and the rule is applied here.
    const m = overlay.has(deviceId)
      ? (await this.deps.store.memberships(deviceId))
          .map((x) => {
            const o = overlay.get(`${x.rolloutId}\n${deviceId}`);
            return o ? { ...x, state: o.state } : x;
          })
          .find((x) => claims(x, ev.bundleId))
      : await this.deps.store.claimant(deviceId, ev.bundleId);
    if (!m) return { result: null, events: [] };
    const key = `${m.rolloutId}\n${deviceId}`;
    const state = nextDeviceState(m.state, ev);
    const timeline =
      ev.seq !== undefined || state === 'stalled'
        ? [...((await this.deps.store.device(m.rolloutId, deviceId))?.timeline ?? []), ...(overlay.get(key)?.entries ?? [])]
        : [];
    if (ev.seq !== undefined) {
      const newest = Math.max(
        -1,
        ...timeline.map((e) => (e.kind === 'status' ? Number((e.detail as { seq?: number } | undefined)?.seq ?? -1) : -1)),
      );
      if (ev.seq <= newest) return { result: { rolloutId: m.rolloutId, state: m.state }, events: [] };
    }
    const now = this.clock.now();
    const at = new Date(now).toISOString();
    // A stall that has lasted past the threshold becomes a rollout event, once per stall (marked on its entry).
    const stall = state === 'stalled' ? currentStall(timeline) : null;
    const report =
      stall && !stall.reported && now - Date.parse(stall.since) >= (this.deps.stallReportSec ?? DEFAULT_STALL_REPORT_SEC) * 1000;
    const detail = {
      from: ev.from,
      to: ev.to,
      event: ev.event ?? null,
      reason: ev.reason ?? '',
      deviceAt: ev.at ?? null,
      seq: ev.seq ?? null,
      ...(ev.waiting ? { waiting: ev.waiting } : {}),
      ...(ev.permanent !== undefined ? { permanent: ev.permanent } : {}),
      ...(ev.retryAt ? { retryAt: ev.retryAt } : {}),
      ...(report ? { stallReported: true } : {}),
    };
    const events: Omit<RolloutEventRecord, 'id'>[] = report
      ? [
          {
            rolloutId: m.rolloutId,
            at,
            actor: this.deps.actor ?? 'engine',
            kind: 'device_stalled',
            from: null,
            to: null,
            stage: m.stage,
            reason: `device ${deviceId} has been stalled since ${stall!.since}: ${ev.reason ?? ''}`.slice(0, 1000),
            detail: { deviceId, stage: m.stage, since: stall!.since, reason: ev.reason ?? '' },
          },
        ]
      : [];
    const entry: TimelineEntry = { at, kind: 'status', state, detail };
    const o = overlay.get(key) ?? { state, entries: [] };
    o.state = state;
    o.entries.push(entry);
    overlay.set(key, o);
    overlay.set(deviceId, null);
    return { result: { rolloutId: m.rolloutId, state }, change: { rolloutId: m.rolloutId, deviceId, state, entry }, events };
  }

  /**
   * How many devices a target matches now, how many are online, how the stages would split them
   * (sizes do not depend on the rollout id), and, given a model, how many an active rollout holds.
   */
  preview(target: Target, opts: { stages?: readonly Pick<Stage, 'percent' | 'count'>[]; model?: string } = {}) {
    return this.heavy.run(`preview ${JSON.stringify([target, opts])}`, () => this.previewNow(target, opts));
  }

  private async previewNow(target: Target, opts: { stages?: readonly Pick<Stage, 'percent' | 'count'>[]; model?: string }) {
    // Without a model nothing needs the ids: count where the devices are instead of loading 50k of them.
    const counted = opts.model ? null : await this.deps.devices.count?.(target);
    if (counted) {
      const cum = cumulativeQuotas(opts.stages ?? [{ percent: 100 }], counted.matching);
      return { ...counted, stageSizes: cum.map((c, i) => c - (i === 0 ? 0 : cum[i - 1]!)), held: 0 };
    }
    const devices = await this.deps.devices.list(target);
    const cum = cumulativeQuotas(opts.stages ?? [{ percent: 100 }], devices.length);
    const held = opts.model
      ? await this.deps.store.holders(
          opts.model,
          devices.map((d) => d.id),
        )
      : [];
    return {
      matching: devices.length,
      online: devices.filter((d) => d.online).length,
      stageSizes: cum.map((c, i) => c - (i === 0 ? 0 : cum[i - 1]!)),
      held: held.length,
    };
  }

  /** A rollout's target against the fleet now: matching devices and the ones not yet in it. */
  previewRollout(id: string) {
    return this.heavy.run(`rollout ${id}`, () => this.previewRolloutNow(id));
  }

  private async previewRolloutNow(id: string) {
    const r = await this.get(id);
    const devices = await this.deps.devices.list(r.target);
    const known = new Set((await this.deps.store.devices(id)).map((d) => d.deviceId));
    return {
      rolloutId: id,
      matching: devices.length,
      online: devices.filter((d) => d.online).length,
      inRollout: devices.filter((d) => known.has(d.id)).length,
      notYetIncluded: devices.filter((d) => !known.has(d.id)).length,
      includeLateJoiners: r.policy.includeLateJoiners,
    };
  }

  async get(id: string): Promise<Rollout> {
    const r = await this.deps.store.get(id);
    if (!r) throw new RolloutError('ROLLOUT_NOT_FOUND', `rollout '${id}' was not found`);
    return r;
  }

  /** State, per-stage progress and device counts by state. */
  statusOf(id: string): Promise<RolloutStatus> {
    return this.get(id).then(async (r) => buildStatus(r, await this.deps.store.counts(id)));
  }

  list(filter: { states?: RolloutState[]; model?: string; limit?: number } = {}): Promise<Rollout[]> {
    return this.deps.store.list(filter);
  }

  /** Device rows without timelines, in notification order. */
  devices(id: string, filter: { stage?: number; states?: RolloutDeviceState[] } = {}): Promise<RolloutDevice[]> {
    return this.deps.store.devices(id, filter);
  }

  async timeline(id: string, deviceId: string): Promise<RolloutDeviceView> {
    const r = await this.get(id);
    const d = await this.deps.store.device(id, deviceId);
    if (!d) throw new RolloutError('DEVICE_NOT_IN_ROLLOUT', `device '${deviceId}' is not in rollout '${id}'`);
    // The device keeps one latest report; it belongs to this rollout only while it names this bundle.
    const report = (await this.deps.devices.get([deviceId]))[0]?.update ?? null;
    return { ...d, update: report?.bundleId === r.bundle.id ? report : null };
  }

  async events(id: string): Promise<RolloutEventRecord[]> {
    await this.get(id);
    return this.deps.store.events(id);
  }

  /** One step of one running rollout, written in one transaction after the port calls it made. */
  private async step(id: string): Promise<void> {
    const step = await this.load(id);
    if (step.r.state !== 'running') return;
    if (this.deps.silentSec !== undefined) markSilentMembers(step, this.deps.silentSec, this.deps.actor ?? 'engine');
    if (step.r.policy.includeLateJoiners && schedulePhase(step.r.policy.schedule, step.nowMs) !== 'ended')
      await takeLateJoiners(this.driver, step);
    for (let guard = 0; guard <= step.r.stages.length && step.r.state === 'running'; guard++) {
      await notifyDue(this.driver, step);
      if ((await judge(this.driver, step)) !== 'advanced') break;
    }
    await this.persist(step);
  }

  /** Writes a step in one transaction, then publishes its transitions (after: an event never reports a change that rolled back). */
  private async persist(step: RolloutStep): Promise<void> {
    const w = step.toWrite();
    await this.deps.store.write(w);
    await publishRolloutEvents(this.deps.events, step.r, w.events ?? []);
  }

  private async load(id: string): Promise<RolloutStep> {
    const r = await this.get(id);
    return new RolloutStep(r, await this.deps.store.devices(id), this.clock.now());
  }

  private async audit(actor: string, action: string, subject: string, detail: unknown): Promise<void> {
    await this.deps.audit?.record({ actor, action, subject, detail });
  }

  /** One operation at a time (across processes with `mutex`): ticks, actions and status events never interleave their reads and writes. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const { mutex } = this.deps;
    const locked = mutex ? () => mutex.run(fn) : fn;
    const run = this.queue.then(locked, locked);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
