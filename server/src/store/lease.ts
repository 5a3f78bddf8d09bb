// The LeaseStore seam: named, expiring leases that say which server process does work that must happen
// once (rollout ticks, retraining triggers) when several processes share one database.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface LeaseStore {
  /**
   * Takes or renews lease `name` for `holder` until `ttlMs` from now. True when `holder` holds it now:
   * it was free, had expired (its holder died or stalled), or was already this holder's.
   */
  tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it, so another process can take it at once. */
  release(name: string, holder: string): Promise<void>;
}

/** This process's holder id: host, pid and a random part (a restarted process is a new holder). */
export const newHolderId = (): string => `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/**
 * Leases in process memory: the SQLite store is one server process's file, so there is nobody else to
 * share with, and the lease is always this process's unless another holder in it took it.
 */
export class LocalLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const l = this.leases.get(name);
    if (l && l.holder !== holder && l.expiresAt > this.now()) return false;
    this.leases.set(name, { holder, expiresAt: this.now() + ttlMs });
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }
}

/**
 * A check to run before each round of once-only work: takes or renews the lease and says whether this
 * process may act. A store error (database unreachable) counts as "not the holder": skipping one round
 * is safe, acting twice may not be. `release()` hands the lease over at shutdown.
 */
export function leaseGate(store: LeaseStore, name: string, holder: string, ttlMs: number, onError?: (e: unknown) => void) {
  return {
    check: () =>
      store.tryAcquire(name, holder, ttlMs).catch((e: unknown) => {
        onError?.(e);
        return false;
      }),
    release: () => store.release(name, holder).catch(() => undefined),
  };
}
