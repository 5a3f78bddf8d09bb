// Token bucket verdicts on a virtual clock.
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows the burst, then delays by the debt, then sheds', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(0).kind).toBe('ok');
    expect(b.take(0)).toEqual({ kind: 'delay', ms: 100 });
    for (let i = 0; i < 4; i++) expect(b.take(0).kind).toBe('delay');
    expect(b.take(0).kind).toBe('shed');
  });

  it('refills at the rate, never beyond the burst', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) b.take(0);
    expect(b.take(100).kind).toBe('ok');
    const idle = new TokenBucket(10, 2, 0);
    idle.take(0);
    idle.take(0);
    expect(idle.take(60_000).kind).toBe('ok');
    expect(idle.take(60_000).kind).toBe('ok');
    expect(idle.take(60_000).kind).toBe('delay');
  });
});
