// A token bucket per device: steady rate with a burst, and a verdict that can push back before shedding.

export type RateVerdict = { kind: 'ok' } | { kind: 'delay'; ms: number } | { kind: 'shed' };

/**
 * Refills at `rate` tokens per second up to `burst`. A message over the budget first borrows
 * (down to −burst): the caller delays it by the time the debt takes to repay, which pushes
 * back on the sender through TCP. Beyond that debt, messages are shed.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now = performance.now()): RateVerdict {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { kind: 'ok' };
    }
    if (this.tokens - 1 < -this.burst) return { kind: 'shed' };
    this.tokens -= 1;
    return { kind: 'delay', ms: Math.ceil((-this.tokens / this.rate) * 1000) };
  }
}
