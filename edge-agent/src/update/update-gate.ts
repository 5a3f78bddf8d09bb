// Update control on the device [WIRE-2.2.2]: the conditions the host app reports, the update locks it
// holds, and the desired state's update policy, judged together before a download and before an activation.
import { DEFAULT_MAX_LOCK_HOLD_SEC, nextWindowOpen, windowsOpen, type UpdatePolicy } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import type { StoredWaiting } from './update-record.ts';

/** What the host app (or the OS) says about the device; a field never reported is unknown. */
export interface DeviceConditions {
  /** The link costs per byte (cellular, a hotspot). */
  metered?: boolean;
  charging?: boolean;
  /** Battery charge, 0..100. */
  batteryPct?: number;
  /** Nobody uses the device (screen off, car parked). */
  idle?: boolean;
  /** Free storage in bytes; when never reported, the agent asks its storage. */
  freeBytes?: number;
}

/** An update lock: while any is held, a staged model is not activated (up to the policy's `maxLockHoldSec`). */
export interface UpdateLock {
  readonly reason: string;
  /** Releases the lock; calling it again does nothing. */
  release(): void;
}

/** Which check: the download needs every condition; the activation needs the window, no lock, and the device-state conditions. */
export type GatePhase = 'download' | 'activation';

const MAX_LOCKS = 64;

/**
 * Holds the policy, the conditions and the locks, and says what an update waits on (null: nothing).
 * Decisions read the agent's clock, so a test moving a fake clock moves the windows and the lock's
 * maximum hold; waiters wake on every change and at least every `pollMs` to look at the clock.
 */
export class UpdateGate {
  private policy: UpdatePolicy | undefined;
  private conditions: DeviceConditions = {};
  private readonly locks = new Set<{ reason: string }>();
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly now: () => number,
    private readonly freeBytes: () => Promise<number | null>,
    private readonly pollMs = 30_000,
  ) {}

  get currentPolicy(): UpdatePolicy | undefined {
    return this.policy;
  }

  get lockReasons(): string[] {
    return [...this.locks].map((l) => l.reason);
  }

  setPolicy(policy: UpdatePolicy | undefined): void {
    this.policy = policy;
    this.wake();
  }

  /** Merges what the app reports (a field set to undefined becomes unknown again). */
  setConditions(c: DeviceConditions): void {
    for (const [k, v] of Object.entries(c)) {
      if (!['metered', 'charging', 'batteryPct', 'idle', 'freeBytes'].includes(k))
        throw new AgentError('AGENT_INPUT_INVALID', `unknown condition '${k}' (metered, charging, batteryPct, idle, freeBytes)`);
      if (
        v !== undefined &&
        (k === 'batteryPct' || k === 'freeBytes'
          ? !(typeof v === 'number' && v >= 0 && (k !== 'batteryPct' || v <= 100))
          : typeof v !== 'boolean')
      ) {
        throw new AgentError('AGENT_INPUT_INVALID', `condition ${k} has an invalid value ${JSON.stringify(v)}`);
      }
    }
    this.conditions = { ...this.conditions, ...c };
    this.wake();
  }

  /** Takes an update lock for `reason` (a car in motion, a call in progress). */
  hold(reason: string): UpdateLock {
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 200)
      throw new AgentError('AGENT_INPUT_INVALID', 'a lock reason is 1 to 200 characters');
    if (this.locks.size >= MAX_LOCKS)
      throw new AgentError('AGENT_INPUT_INVALID', `at most ${MAX_LOCKS} update locks at once: release the ones you no longer need`);
    const entry = { reason };
    this.locks.add(entry);
    this.wake();
    return {
      reason,
      release: () => {
        if (this.locks.delete(entry)) this.wake();
      },
    };
  }

  /**
   * What the update waits on in `phase`, or null when it may go on. `previous` is what it waited on so
   * far: the lock's maximum hold counts from when the lock first held this update back.
   */
  async check(phase: GatePhase, previous: StoredWaiting | null): Promise<StoredWaiting | null> {
    const now = this.now();
    const p = this.policy;
    const since = (kind: StoredWaiting['kind']) => (previous?.kind === kind ? previous.since : now);
    const cond = await this.unmet(phase);
    if (phase === 'download') return cond ? { kind: 'condition', reason: cond, since: since('condition'), until: null } : null;
    if (!p?.urgent && !windowsOpen(p, now)) {
      const next = nextWindowOpen(p, now);
      const zone = p?.timeZone ?? 'UTC';
      return {
        kind: 'window',
        reason: `outside the maintenance window (${zone})${next ? `; it opens at ${new Date(next).toISOString()}` : ''}`,
        since: since('window'),
        until: next,
      };
    }
    if (cond) return { kind: 'condition', reason: cond, since: since('condition'), until: null };
    if (this.locks.size > 0) {
      const start = since('lock');
      const until = start + (p?.maxLockHoldSec ?? DEFAULT_MAX_LOCK_HOLD_SEC) * 1000;
      // Past the operator's maximum hold the update goes ahead even though the app still holds its lock.
      if (now >= until) return null;
      return {
        kind: 'lock',
        reason: `update lock held by the app (${this.lockReasons.join(', ').slice(0, 500)}); activating at the latest at ${new Date(until).toISOString()}`,
        since: start,
        until,
      };
    }
    return null;
  }

  /** Resolves on the next change (policy, conditions, a lock) or after `pollMs`; rejects when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const cleanup = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal.removeEventListener('abort', onAbort);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(signal.reason);
      };
      const timer = setTimeout(done, this.pollMs);
      this.wakers.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes every waiter (also called when the agent's clock is moved in tests). */
  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** The first condition the policy asks for that does not hold, in words; null when all hold. */
  private async unmet(phase: GatePhase): Promise<string | null> {
    const want = this.policy?.conditions;
    if (!want) return null;
    const c = this.conditions;
    const unknown = (name: string) => `${name} unknown (the app has not reported it: agent.setConditions)`;
    if (phase === 'download' && want.unmetered) {
      if (c.metered === undefined) return unknown('metered link');
      if (c.metered) return 'waiting for an unmetered link';
    }
    if (want.charging) {
      if (c.charging === undefined) return unknown('charging');
      if (!c.charging) return 'waiting for the device to charge';
    }
    if (want.minBatteryPct !== undefined) {
      if (c.batteryPct === undefined) return unknown('battery level');
      if (c.batteryPct < want.minBatteryPct) return `battery below ${want.minBatteryPct}%`;
    }
    if (want.idle) {
      if (c.idle === undefined) return unknown('idle');
      if (!c.idle) return 'waiting for the device to be idle';
    }
    if (phase === 'download' && want.minFreeBytes !== undefined) {
      const free = c.freeBytes ?? (await this.freeBytes().catch(() => null));
      if (free === null) return unknown('free storage');
      if (free < want.minFreeBytes) return `${free} bytes free, needs ${want.minFreeBytes}`;
    }
    return null;
  }
}
