// Global admission of inbound publishes: at most `max` being routed at once; the rest wait, in
// order, before they are acknowledged. See BrokerLimits.maxInflightPublishes for why.

/** Whatever is admitted on behalf of one connection (so a closed connection can give its slots back). */
export interface Admittee {
  admitted: number;
  readonly closed: boolean;
}

export class AdmissionGate {
  private inflight = 0;
  private readonly waiting = new WaitQueue();
  /** Most publishes ever routed at once, and how many ever had to wait. */
  peak = 0;
  waited = 0;

  constructor(private readonly max: number) {}

  /** Calls `go(null)` now or when a slot frees up; `go(error)` if the connection closed meanwhile. */
  admit(who: Admittee, go: (err: Error | null) => void): void {
    const enter = () => {
      if (who.closed) return go(new Error('connection closed'));
      this.inflight++;
      who.admitted++;
      if (this.inflight > this.peak) this.peak = this.inflight;
      go(null);
    };
    if (this.inflight < this.max && this.waiting.length === 0) enter();
    else {
      this.waited++;
      this.waiting.push(enter);
    }
  }

  /** One of `who`'s publishes was routed. */
  routed(who: Admittee): void {
    if (who.admitted === 0) return;
    who.admitted--;
    this.release(1);
  }

  /** `who` closed: its admitted publishes may never be routed, so their slots come back now. */
  forget(who: Admittee): void {
    const n = who.admitted;
    who.admitted = 0;
    this.release(n);
  }

  private release(n: number): void {
    this.inflight = Math.max(0, this.inflight - n);
    while (this.inflight < this.max && this.waiting.length > 0) this.waiting.shift()!();
  }
}

/** A FIFO of callbacks with O(1) shift (waits can run to thousands). */
class WaitQueue {
  private items: (() => void)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(f: () => void): void {
    this.items.push(f);
  }
  shift(): (() => void) | undefined {
    const f = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }
}
