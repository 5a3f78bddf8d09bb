// Decides when to update: compares the desired bundle with what serves, runs the state machine, cancels stale work.
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import type { ModelHost } from '../model/model-host.ts';
import { describeError } from '../errors.ts';
import { backoffDelay, type BackoffOptions } from '../transport/backoff.ts';
import { CANCELLABLE } from './transitions.ts';
import type { StateMachine } from './state-machine.ts';
import { targetKey, type UpdateRecord, type UpdateTarget } from './update-record.ts';

/** Options of {@link UpdateEngine}. */
export interface UpdateEngineOptions {
  machine: StateMachine;
  host: ModelHost;
  record: UpdateRecord;
  /** Called each time the engine has nothing left to do for what is desired. */
  onSettled: (record: UpdateRecord) => void;
  onError: (err: unknown) => void;
  /** Delay before retrying an update that stalled (its state could not be saved). Default 1 s doubling to 5 min. */
  retry?: BackoffOptions;
  /** The agent's clock (retry times in the record are on it). Default Date.now. */
  now?: () => number;
}

/** One update at a time; a newer desired bundle cancels one that has not been activated yet. */
export class UpdateEngine {
  record: UpdateRecord;
  private desired: BundleRef | null = null;
  /** The operator's retry nonce of the desired state [WIRE-2.2]. */
  private desiredRetry = 0;
  private readonly sideloads: { target: UpdateTarget; done: (r: UpdateRecord) => void }[] = [];
  private running: Promise<void> | null = null;
  /** Work arrived while the loop ran: run it once more. */
  private kickAgain = false;
  private controller = new AbortController();
  private stopped = false;
  private current: UpdateTarget | null = null;
  /** Stalls in a row, for the retry backoff; the loop reloads the saved record before going on after one. */
  private stalls = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** A bundle that failed transiently (storage, network; not its contents): tried again once this timer fires [WIRE-2.4.3]. */
  private transientRetry: { key: string; due: boolean } | null = null;

  constructor(private readonly o: UpdateEngineOptions) {
    this.record = o.record;
  }

  /** The update's record now: mid-run the machine's last saved one (a waiting state lasts hours), else `record`. */
  get live(): UpdateRecord {
    return this.running ? (this.o.machine.latest ?? this.record) : this.record;
  }

  /** Resumes an update a restart interrupted (through the loop guard), then follows the desired state. */
  async start(): Promise<void> {
    if (this.record.state !== 'idle') this.record = await this.o.machine.resume(this.record);
    this.scheduleRetry();
    this.kick();
  }

  /** A new desired bundle (null: keep what runs) [WIRE-2.2]. */
  setDesired(bundle: BundleRef | null, retry = 0): void {
    this.desired = bundle;
    this.desiredRetry = retry;
    const cur = this.current;
    if (cur && cur.source === 'server' && cur.manifestDigest !== bundle?.manifestDigest && CANCELLABLE.has(this.record.state))
      this.controller.abort();
    this.kick();
  }

  /** Installs a bundle whose blobs are already in the chunk store; resolves with the record once it is done. */
  sideload(target: UpdateTarget): Promise<UpdateRecord> {
    return new Promise((done) => {
      this.sideloads.push({ target, done });
      this.kick();
    });
  }

  /** Stops between steps; the saved state resumes on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.controller.abort();
    await this.running;
  }

  /** Resolves when no update runs. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      // The loop may already have looked for work and be on its way out (two desired states can arrive
      // in one socket read, both within the same turn): look again once it has finished.
      this.kickAgain = true;
      return;
    }
    this.running = this.loop()
      .catch((err) => this.stall(err))
      .finally(() => {
        this.running = null;
        if (this.kickAgain) {
          this.kickAgain = false;
          this.kick();
        }
      });
  }

  /**
   * The loop threw: a state could not be saved (a full disk, typically), so nothing moved on and
   * nothing would until the next desired state. Report it to the server as a `stalled` status event
   * about the bundle (the rollout sees it) and try again after a backoff.
   */
  private stall(err: unknown): void {
    this.o.onError(err);
    if (this.stopped) return;
    const delay = backoffDelay(this.stalls++, this.o.retry ?? { minMs: 1000, maxMs: 300_000 });
    const reason = `${describeError(err)}; retry ${this.stalls} in ${Math.round(delay)} ms`;
    this.record = this.o.machine.stalled(this.record, this.record.target ?? this.current, reason);
    this.current = null;
    this.later(delay);
  }

  private async loop(): Promise<void> {
    if (this.stalls > 0) this.record = await this.o.machine.reload(this.record);
    for (;;) {
      if (this.stopped) return this.finishSideloads();
      if (this.record.state !== 'idle') {
        this.controller = new AbortController();
        const target = this.record.target;
        this.current = target;
        const failedBefore = this.record.lastFailed;
        this.record = await this.o.machine.run(this.record, this.controller.signal, () => this.stopped);
        this.current = null;
        if (this.record.lastFailed !== failedBefore) this.scheduleRetry();
        if (target?.source === 'sideload' && this.record.state === 'idle') this.finishSideloads(target.manifestDigest);
        continue;
      }
      const next = this.pick();
      if (!next) {
        this.stalls = 0;
        this.o.onSettled(this.record);
        return;
      }
      this.current = next;
      this.record = await this.o.machine.begin(
        this.record,
        next,
        next.source === 'sideload' ? 'sideloaded bundle' : 'desired state names a new bundle',
      );
    }
  }

  /**
   * A bundle that failed transiently (a full disk, a lost link) says nothing about the bundle: the
   * failure was reported with its retry time (the `failed` status event), and it is tried again then.
   */
  private scheduleRetry(): void {
    const failed = this.record.state === 'idle' ? this.record.lastFailed : null;
    if (failed?.retryAt == null || this.stopped) return;
    const retry = { key: failed.key, due: false };
    this.transientRetry = retry;
    this.later(Math.max(0, failed.retryAt - (this.o.now ?? Date.now)()), () => (retry.due = true));
  }

  /** Runs `before` and looks for work again after `ms`. */
  private later(ms: number, before: () => void = () => undefined): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      before();
      this.kick();
    }, ms);
    this.timers.add(t);
  }

  /** The next bundle to install: a pending sideload first, then the desired one unless it serves or failed here. */
  private pick(): UpdateTarget | null {
    const serving = this.o.host.current?.envelopeDigest;
    const side = this.sideloads[0];
    if (side) {
      if (side.target.manifestDigest !== serving) return side.target;
      this.finishSideloads(side.target.manifestDigest);
      return this.pick();
    }
    const d = this.desired;
    if (!d || d.manifestDigest === serving) return null;
    const target: UpdateTarget = { ...d, source: 'server', ...(this.desiredRetry ? { retry: this.desiredRetry } : {}) };
    if (this.record.lastFailed?.key === targetKey(target)) {
      if (this.transientRetry?.key !== targetKey(target) || !this.transientRetry.due) return null;
      this.transientRetry = null;
    }
    return target;
  }

  /** Resolves the sideloads of `digest` (all of them when none is given). */
  private finishSideloads(digest?: string): void {
    for (let i = this.sideloads.length - 1; i >= 0; i--) {
      const s = this.sideloads[i]!;
      if (digest !== undefined && s.target.manifestDigest !== digest) continue;
      this.sideloads.splice(i, 1);
      s.done(this.record);
    }
  }
}
