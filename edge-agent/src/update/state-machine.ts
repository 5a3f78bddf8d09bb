// Runs the update flow: save the state, then act, then let the table pick the next state; a loop guard caps restarts.
import type { DeployState } from '@flotilla/firmware-bundler/wire';
import type { AgentStorage } from '../storage/agent-storage.ts';
import { failureOf, type StepHandler, type StepOutcome } from './steps.ts';
import { CANCELLABLE, nextState, WAITING, type UpdateEvent } from './transitions.ts';
import { loadRecord, saveRecord, targetKey, type FailedBundle, type UpdateRecord, type UpdateTarget } from './update-record.ts';

/** One state change, as reported to the server [WIRE-2.4] and to the app. */
export interface Transition {
  seq: number;
  from: DeployState;
  to: DeployState;
  /** `stalled`: the flow could not go on (its state could not be saved) and will be retried; the state stays. */
  event: UpdateEvent | 'stalled';
  reason: string;
  /** The bundle the update is about (kept on the move to idle, when the record forgets it). */
  target: UpdateTarget | null;
  record: UpdateRecord;
}

/** Where a crash-test hook fires: after the state is saved and before its step, or after the step and before the next save. */
export type StepPhase = 'before' | 'after';

/** Options of {@link StateMachine}. */
export interface StateMachineOptions {
  /** Resumes of one update after restarts before the loop guard ends it. Default 5. */
  maxResumes?: number;
  /** Called after each transition is saved (reporting must not block the flow, so errors are ignored). */
  onTransition?: (t: Transition) => void;
  /** Test hook at each step boundary (the crash tests kill the process here). */
  onStep?: (state: DeployState, phase: StepPhase) => void;
  /**
   * Judges a failure as it happens [WIRE-2.4.3]: permanent, or transient with the time of the next try
   * (null once the retries are used up). `attempts` counts this bundle's transient failures before this one.
   * Default: every failure is permanent.
   */
  judgeFailure?: (reason: string, attempts: number) => { permanent: boolean; retryAt: number | null };
}

/**
 * The Mender-style runner. Each state's step only reports an event; {@link nextState} decides.
 * The record is written (atomically) with the new state BEFORE that state's step runs, so a power
 * cut anywhere resumes the step that was interrupted, and every step is idempotent.
 */
export class StateMachine {
  /**
   * The next status event number: a stalled report takes a number the record could not save, and a
   * record read back after a failed write may be behind, so numbers never repeat for the server [WIRE-2.4].
   */
  private nextSeq = 0;
  /** The record as last saved by a transition: what the update is doing now, while `run` is still going. */
  latest: UpdateRecord | null = null;

  constructor(
    private readonly storage: AgentStorage,
    private readonly steps: Record<Exclude<DeployState, 'idle'>, StepHandler>,
    private readonly o: StateMachineOptions = {},
  ) {}

  /** Starts an update from idle: saves `downloading` with its target. */
  begin(record: UpdateRecord, target: UpdateTarget, reason: string): Promise<UpdateRecord> {
    return this.move(record, { event: 'update', reason }, { target, slot: null, previous: null, resumes: 0, failure: null });
  }

  /**
   * Called once at start-up for a record left mid-update: counts the resume and, past the limit,
   * ends the update through the table's `loop_guard` row instead of trying the same step again.
   */
  async resume(record: UpdateRecord): Promise<UpdateRecord> {
    if (record.state === 'idle') return record;
    // A restart while waiting (a night-long window, a phone switched off) is no sign of a crashing step.
    const resumes = record.resumes + (record.cleanStop || WAITING.has(record.state) ? 0 : 1);
    const limit = this.o.maxResumes ?? 5;
    if (resumes > limit) {
      const reason = `AGENT_LOOP_GUARD: update resumed ${resumes - 1} times in ${record.state}, limit ${limit}`;
      return this.move({ ...record, resumes }, { event: 'loop_guard', reason }, { failure: reason });
    }
    const next = { ...record, resumes, cleanStop: false };
    await saveRecord(this.storage, next);
    return next;
  }

  /**
   * Runs steps until idle. `signal` aborting means "the desired bundle changed": cancel if still
   * allowed. `shouldStop` (the agent closing) ends the loop between steps; the saved state resumes later.
   */
  async run(record: UpdateRecord, signal: AbortSignal, shouldStop: () => boolean = () => false): Promise<UpdateRecord> {
    let r = record;
    while (r.state !== 'idle' && !shouldStop()) {
      const state = r.state;
      let outcome: StepOutcome;
      if (signal.aborted && CANCELLABLE.has(state)) {
        outcome = { event: 'cancel', reason: 'the desired bundle changed' };
      } else {
        this.o.onStep?.(state, 'before');
        try {
          outcome = await this.steps[state](r, CANCELLABLE.has(state) ? signal : new AbortController().signal);
        } catch (err) {
          // Closing the agent interrupts a step without judging it: the saved state resumes on the next start.
          if (shouldStop()) return this.markCleanStop(r);
          outcome = signal.aborted && CANCELLABLE.has(state) ? { event: 'cancel', reason: 'the desired bundle changed' } : failureOf(err);
        }
        this.o.onStep?.(state, 'after');
      }
      r = await this.move(r, outcome, { ...outcome.patch, ...(outcome.event === 'failure' ? { failure: outcome.reason } : {}) });
    }
    return r.state !== 'idle' ? this.markCleanStop(r) : r;
  }

  /**
   * Reports that the flow could not go on from `record` (typically a write failing on a full disk)
   * and will be retried: a `stalled` status event about `target` that leaves the state as it is.
   * Saves nothing (the storage is what failed); the reason also becomes the reported `lastError`.
   */
  stalled(record: UpdateRecord, target: UpdateTarget | null, reason: string): UpdateRecord {
    const seq = Math.max(record.statusSeq, this.nextSeq);
    this.nextSeq = seq + 1;
    const next = { ...record, statusSeq: seq + 1, lastError: reason };
    try {
      this.o.onTransition?.({ seq, from: record.state, to: record.state, event: 'stalled', reason, target, record: next });
    } catch {
      /* reporting never changes the flow */
    }
    return next;
  }

  /**
   * The record as storage holds it, for a retry after a stall: a write that failed mid-flow leaves the
   * saved state behind the one in memory, and steps are idempotent from the saved one. Not a resume
   * after a crash, so the loop guard does not count it.
   */
  async reload(current: UpdateRecord): Promise<UpdateRecord> {
    const saved = await loadRecord(this.storage);
    return { ...saved, statusSeq: Math.max(saved.statusSeq, this.nextSeq, current.statusSeq), lastError: current.lastError };
  }

  /** A clean stop mid-update is not a crash: the next start resumes without counting it for the loop guard. */
  private async markCleanStop(r: UpdateRecord): Promise<UpdateRecord> {
    const next = { ...r, cleanStop: true };
    await saveRecord(this.storage, next);
    return next;
  }

  private async move(
    r: UpdateRecord,
    outcome: { event: UpdateEvent; reason: string },
    patch: Partial<UpdateRecord>,
  ): Promise<UpdateRecord> {
    const to = nextState(r.state, outcome.event);
    const seq = Math.max(r.statusSeq, this.nextSeq);
    // What the update waits on lives only as long as the waiting state: every other step clears it.
    let next: UpdateRecord = {
      ...r,
      ...patch,
      waiting: outcome.event === 'wait' ? (patch.waiting ?? null) : null,
      state: to,
      statusSeq: seq + 1,
      cleanStop: false,
    };
    if (to === 'failed' && r.state !== 'rolling_back') next = { ...next, failureRetry: this.judge(r, outcome.reason) };
    else if (to === 'failed' && !next.failureRetry) next = { ...next, failureRetry: { permanent: true, attempts: 0, retryAt: null } };
    if (to === 'idle') next = { ...next, target: null, slot: null, previous: null, resumes: 0, failure: null, failureRetry: null };
    await saveRecord(this.storage, next);
    this.latest = next;
    this.nextSeq = seq + 1;
    try {
      this.o.onTransition?.({
        seq,
        from: r.state,
        to,
        event: outcome.event,
        reason: outcome.reason,
        target: r.target ?? next.target,
        record: next,
      });
    } catch {
      /* reporting never changes the flow */
    }
    return next;
  }

  /** A failure as it happens: permanent or transient, counting this bundle's transient failures in a row. */
  private judge(r: UpdateRecord, reason: string): Pick<FailedBundle, 'permanent' | 'attempts' | 'retryAt'> {
    const key = r.target ? targetKey(r.target) : null;
    const before = key !== null && r.lastFailed?.key === key && r.lastFailed.permanent === false ? (r.lastFailed.attempts ?? 0) : 0;
    const v = this.o.judgeFailure?.(reason, before) ?? { permanent: true, retryAt: null };
    return { permanent: v.permanent, attempts: v.permanent ? before : before + 1, retryAt: v.retryAt };
  }
}
