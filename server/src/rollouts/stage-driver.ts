// What a tick does to a running rollout: take in late joiners, notify due devices at the allowed
// rate, judge the current stage, and advance, wait for approval, pause, or abort and roll back.
import { hashOrder, planCohorts, type Cohort } from './cohorts.ts';
import { cohortHash } from './cohorts.ts';
import { isMember, NOTIFIED_STATES } from './device-state.ts';
import type { DesiredStatePort, DeviceDirectory, HealthPort } from './ports.ts';
import { notifyAllowance } from './rate-limit.ts';
import { describeShort, evaluateGates, type GateFailure, type GateVerdict, type StageStats } from './rollout-machine.ts';
import type { RolloutStep } from './rollout-step.ts';
import type { RolloutStore } from './rollout-store.ts';
import type { RolloutDevice } from './rollout-types.ts';
import { inSlices } from './slices.ts';
import { schedulePhase } from './update-control.ts';

export interface DriverDeps {
  store: RolloutStore;
  devices: DeviceDirectory;
  desired: DesiredStatePort;
  health: HealthPort;
  /** Who the engine's own decisions are recorded as (default `engine`; `engine@<process>` when several serve one store). */
  actor?: string;
}

/** What the step should do next: keep going (a stage was left), or stop for this tick. */
export type Outcome = 'advanced' | 'stopped';

const byStageThenHash = (a: RolloutDevice, b: RolloutDevice) =>
  (a.stage ?? Infinity) - (b.stage ?? Infinity) || a.hash - b.hash || (a.deviceId < b.deviceId ? -1 : 1);

/** A device of stage `s` only runs the bundle as a shadow while the rollout is still in that stage. */
const shadowing = (step: RolloutStep, s: number | null): boolean => s !== null && s === step.r.current && step.r.stages[s]!.shadow;

/**
 * Devices that matched the target after the rollout was planned join it (policy.includeLateJoiners),
 * placed by the same stable plan; a device held by another active rollout of this model stays out
 * until that one lets go of it.
 */
export async function takeLateJoiners(d: DriverDeps, step: RolloutStep): Promise<void> {
  const known = new Set(step.rows.map((x) => x.deviceId));
  const fresh = (await d.devices.list(step.r.target)).map((x) => x.id).filter((id) => !known.has(id));
  if (fresh.length === 0) return;
  const held = new Set((await d.store.holders(step.r.model, fresh, step.r.id)).map((h) => h.deviceId));
  const joining = fresh.filter((id) => !held.has(id));
  if (joining.length === 0) return;
  const existing = new Map<string, Cohort>(step.rows.map((x) => [x.deviceId, x.stage]));
  const plan = planCohorts(step.r.id, step.r.stages, joining, existing);
  for (const id of hashOrder(step.r.id, joining)) {
    const stage = plan.get(id) ?? null;
    step.addDevice(
      {
        rolloutId: step.r.id,
        deviceId: id,
        stage,
        hash: cohortHash(step.r.id, id),
        state: stage === null ? 'excluded' : 'planned',
        previousBundleId: null,
        notifiedAt: null,
        updatedAt: step.at,
      },
      'planned',
      { stage, lateJoiner: true },
    );
  }
  step.rows.sort(byStageThenHash);
}

/**
 * Notifies planned devices of the current and earlier stages, in hash order, as far as the rate
 * allows. Offline devices are notified like the rest: the desired state is retained and reaches
 * them when they return. The bake starts once the stage's last device has been told.
 */
export async function notifyDue(d: DriverDeps, step: RolloutStep): Promise<void> {
  const { r } = step;
  const rt = step.stage;
  const phase = schedulePhase(r.policy.schedule, step.nowMs);
  // Before the scheduled start nobody is told (and no bake starts); after the end nobody new is.
  if (phase === 'before') return;
  if (phase === 'ended') return endSchedule(step);
  const due = step.rows.filter((x) => x.state === 'planned' && x.stage !== null && x.stage <= r.current);
  const allowed = notifyAllowance(r.policy.rate, (step.nowMs - Date.parse(rt.rateWindowAt ?? step.at)) / 1000) - rt.notifiedInWindow;
  const batch = due.slice(0, Math.max(0, allowed));
  // In slices that yield between them: the port calls (registry reads, desired-state writes, publishes) of a
  // 1,000-device stage done at once kept the event loop for a second. The rows change after each slice's
  // calls, and the step is written once at the end, so a crash in between repeats calls (idempotent), never skips one.
  await inSlices(batch, async (slice) => {
    const info = new Map((await d.devices.get(slice.map((x) => x.deviceId))).map((x) => [x.id, x]));
    const live = slice.filter((x) => info.has(x.deviceId));
    const shadowIds = live.filter((x) => shadowing(step, x.stage)).map((x) => x.deviceId);
    const serveIds = live.filter((x) => !shadowing(step, x.stage)).map((x) => x.deviceId);
    if (serveIds.length) await d.desired.setDesired(serveIds, r.bundle, { update: r.policy.update });
    if (shadowIds.length) await d.desired.setShadow(shadowIds, r.bundle);
    for (const row of slice) {
      const dev = info.get(row.deviceId);
      if (!dev) {
        step.device(row, 'excluded', 'gone', { reason: 'the device is unknown or revoked' });
        continue;
      }
      const shadow = shadowing(step, row.stage);
      // A device already running the bundle gets no status events: it is updated as it stands.
      const already = !shadow && dev.currentBundleId === r.bundle.id;
      step.device(
        row,
        already ? 'updated' : 'notified',
        'notified',
        { shadow, online: dev.online, ...(already ? { alreadyCurrent: true } : {}) },
        { previousBundleId: dev.currentBundleId, notifiedAt: step.at },
      );
    }
    rt.notifiedInWindow += live.length;
  });
  if (rt.state === 'active' && rt.bakeStartedAt === null && !step.rows.some((x) => x.stage === r.current && x.state === 'planned')) {
    rt.bakeStartedAt = step.at;
  }
}

/**
 * The schedule ended: devices not told yet leave the rollout (`excluded`, with the reason on their
 * timeline), so the stage's bake can start and its gates judge the devices that were told; those finish
 * their update as usual. Later stages are then empty and pass.
 */
function endSchedule(step: RolloutStep): void {
  const rt = step.stage;
  for (const row of step.rows) {
    if (row.state === 'planned') step.device(row, 'excluded', 'schedule_ended', { endAt: step.r.policy.schedule?.endAt });
  }
  if (rt.state === 'active' && rt.bakeStartedAt === null) rt.bakeStartedAt = step.at;
}

/** Operator retry: the failed devices of stage `i` get the desired state again with a new retry nonce. */
export async function retryFailed(d: DriverDeps, step: RolloutStep, i: number, actor: string, reason: string): Promise<number> {
  const rows = step.rows.filter((x) => x.stage === i && x.state === 'failed');
  if (rows.length === 0) return 0;
  await inSlices(rows, async (slice) => {
    await d.desired.setDesired(
      slice.map((x) => x.deviceId),
      step.r.bundle,
      { update: step.r.policy.update, retry: true },
    );
    for (const row of slice) step.device(row, 'notified', 'retried', { actor, reason });
  });
  return rows.length;
}

/** Judges the current stage and acts on the verdict. */
export async function judge(d: DriverDeps, step: RolloutStep): Promise<Outcome> {
  const { r } = step;
  const i = r.current;
  const rt = step.stage;
  const stage = r.stages[i]!;
  if (rt.state === 'passed') {
    // Resumed after a pause taken while this stage awaited approval: it still needs one.
    if (r.policy.advance === 'approval') {
      step.fire('await_approval', d.actor ?? 'engine', 'the stage passed its gates; waiting for approval', { stage: i });
      return 'stopped';
    }
    return leaveStage(d, step, d.actor ?? 'engine', 'the stage passed its gates', 'stage_passed');
  }
  if (rt.state !== 'active') return 'stopped';
  // Devices a passed shadow stage just promoted install the bundle during this stage: judged with it.
  const judged = i > 0 && r.stages[i - 1]!.shadow ? [i - 1, i] : [i];
  const members = step.rows.filter((x) => x.stage !== null && judged.includes(x.stage) && isMember(x.state));
  const notified = members.filter((x) => NOTIFIED_STATES.includes(x.state));
  const health =
    notified.length === 0
      ? {
          reporting: 0,
          requests: 0,
          errors: 0,
          clientErrors: 0,
          driftSamples: 0,
          errorRate: null,
          p95LatencyMs: null,
          confidenceDrop: null,
          driftScore: null,
          disagreement: null,
        }
      : await d.health.stageStats({
          rolloutId: r.id,
          stage: i,
          bundle: r.bundle,
          shadow: stage.shadow,
          deviceIds: notified.map((x) => x.deviceId),
          since: rt.activatedAt ?? step.at,
        });
  const stats: StageStats = { ...health, devices: members.length, failed: members.filter((x) => x.state === 'failed').length };
  const verdict = evaluateGates(stage, stats);
  rt.lastVerdict = { ...verdict, at: step.at, stats };
  if (verdict.failures.length > 0) return failStage(d, step, verdict.failures, verdict);
  // Late joiners placed in this or an earlier stage are told before the stage may pass.
  if (rt.bakeStartedAt === null || step.rows.some((x) => x.state === 'planned' && x.stage !== null && x.stage <= i)) return 'stopped';
  const bakeEnd = Date.parse(rt.bakeStartedAt) + stage.bakeSec * 1000;
  if (members.length > 0 && step.nowMs < bakeEnd) return 'stopped';
  if (verdict.pass) return passStage(d, step, d.actor ?? 'engine', 'the stage passed its gates', false);
  // The wait for evidence runs from the bake's end, or from the latest resume when that is later.
  const waitFrom = Math.max(bakeEnd, rt.waitFrom ? Date.parse(rt.waitFrom) : 0);
  if (step.nowMs >= waitFrom + stage.timeoutSec * 1000) {
    const short = describeShort(verdict.waiting ?? []);
    step.fire(
      'insufficient_evidence',
      d.actor ?? 'engine',
      `insufficient evidence ${stage.timeoutSec}s after the ${rt.waitFrom ? 'resume' : 'bake'}: ${short || 'no verdict'}; resume to wait another ${stage.timeoutSec}s, or advance to pass the stage without it`,
      { stage: i, waiting: verdict.waiting ?? [], verdict },
    );
  }
  return 'stopped';
}

const describe = (f: GateFailure) => `${f.gate} ${+f.value.toFixed(4)} ${f.gate === 'minReporting' ? '<' : '>'} ${f.limit}`;

/** A gate failed: pause, or fail the stage, roll its devices back and abort (policy.onGateFail). */
async function failStage(d: DriverDeps, step: RolloutStep, failures: GateFailure[], verdict: GateVerdict, prefix = ''): Promise<Outcome> {
  const reason = prefix + failures.map(describe).join('; ');
  const detail = { stage: step.r.current, failures, verdict };
  if (step.r.policy.onGateFail === 'pause') {
    step.fire('gate_failed', d.actor ?? 'engine', reason, detail);
    return 'stopped';
  }
  step.fire('gate_failed_abort', d.actor ?? 'engine', reason, detail);
  const i = step.r.current;
  step.stageEvent(i, 'fail');
  // The devices a passed shadow stage promoted were judged with this stage, so they go back with it.
  await revertStages(d, step, i > 0 && step.r.stages[i - 1]!.shadow ? [i - 1, i] : [i], `gate failed: ${reason}`);
  return 'stopped';
}

/** The current stage passed (or an operator forced it): wait for approval, or leave it. */
export async function passStage(d: DriverDeps, step: RolloutStep, actor: string, reason: string, forced: boolean): Promise<Outcome> {
  const i = step.r.current;
  step.stageEvent(i, 'pass');
  const last = i === step.r.stages.length - 1;
  if (!forced && !last && step.r.policy.advance === 'approval') {
    step.fire('await_approval', d.actor ?? 'engine', 'the stage passed its gates; waiting for approval', { stage: i });
    return 'stopped';
  }
  return leaveStage(d, step, actor, reason, forced ? 'advance' : 'stage_passed');
}

/** Leaves a passed stage: a shadow stage's devices start serving; the next stage starts, or the rollout completes. */
export async function leaveStage(
  d: DriverDeps,
  step: RolloutStep,
  actor: string,
  reason: string,
  event: 'advance' | 'stage_passed',
): Promise<Outcome> {
  const { r } = step;
  const i = r.current;
  if (r.stages[i]!.shadow) await promote(d, step, i);
  if (i === r.stages.length - 1) {
    if (event === 'advance') step.fire('advance', actor, reason, { stage: i });
    step.fire('finish', d.actor ?? 'engine', 'the last stage passed', { stage: i });
    return 'stopped';
  }
  step.fire(event, actor, reason, { from: i, to: i + 1 });
  r.current = i + 1;
  step.stageEvent(i + 1, 'activate');
  return 'advanced';
}

/** Shadow devices that proved the bundle now serve it: the shadow slot is cleared, the desired state names it. */
async function promote(d: DriverDeps, step: RolloutStep, i: number): Promise<void> {
  const rows = step.rows.filter((x) => x.stage === i && NOTIFIED_STATES.includes(x.state) && x.state !== 'failed');
  if (rows.length === 0) return;
  await inSlices(rows, async (slice) => {
    const ids = slice.map((x) => x.deviceId);
    await d.desired.setShadow(ids, null);
    await d.desired.setDesired(ids, step.r.bundle, { update: step.r.policy.update });
    for (const row of slice) step.device(row, 'notified', 'promoted');
  });
}

/**
 * Sends the told devices of `stages` back where they were: a shadow stage still in progress just
 * clears the shadow (the serving model never changed); other devices get `{ rollbackTo }` their
 * previous bundle. Devices never told are left alone.
 */
export async function revertStages(d: DriverDeps, step: RolloutStep, stages: number[], why: string): Promise<void> {
  for (const s of stages) {
    const rows = step.rows.filter((x) => x.stage === s && NOTIFIED_STATES.includes(x.state));
    if (rows.length === 0) continue;
    if (shadowing(step, s)) {
      await inSlices(rows, async (slice) => {
        await d.desired.setShadow(
          slice.map((x) => x.deviceId),
          null,
        );
        for (const row of slice) step.device(row, 'rolled_back', 'rollback', { why, shadowCleared: true });
      });
      continue;
    }
    const byPrevious = new Map<string | null, RolloutDevice[]>();
    for (const row of rows) {
      const group = byPrevious.get(row.previousBundleId);
      if (group) group.push(row);
      else byPrevious.set(row.previousBundleId, [row]);
    }
    for (const [prev, group] of byPrevious) {
      // A device that already ran the bundle goes "back" to it: nothing will change, so nothing to wait for.
      const state = prev === step.r.bundle.id ? 'rolled_back' : 'rollback_pending';
      await inSlices(group, async (slice) => {
        await d.desired.setDesired(
          slice.map((x) => x.deviceId),
          { rollbackTo: prev },
        );
        for (const row of slice) step.device(row, state, 'rollback', { why, rollbackTo: prev });
      });
    }
  }
}
