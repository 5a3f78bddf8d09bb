// Connections per source address that have not authenticated yet: an idle socket is held until the CONNECT
// timeout, so without a bound per address one host can hold every slot with sockets that never speak.

export class SourceLimit {
  private readonly pending = new Map<string, number>();

  constructor(private readonly maxPerSource: number) {}

  /** Takes a slot for `source`; false when it already holds its limit. Unknown sources share one slot pool. */
  take(source: string | undefined): boolean {
    const key = source ?? 'unknown';
    const n = this.pending.get(key) ?? 0;
    if (n >= this.maxPerSource) return false;
    this.pending.set(key, n + 1);
    return true;
  }

  /** Gives the slot back (authenticated or closed). */
  release(source: string | undefined): void {
    const key = source ?? 'unknown';
    const n = (this.pending.get(key) ?? 0) - 1;
    if (n <= 0) this.pending.delete(key);
    else this.pending.set(key, n);
  }
}
