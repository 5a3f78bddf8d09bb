import { describe, expect, it } from 'vitest';
import { NewestGenerations } from './newest-generations.ts';

describe('NewestGenerations', () => {
  it('drops a write older than one already claimed, per device; the same generation may be written again', () => {
    const g = new NewestGenerations();
    expect(g.claim('a', 3)).toBe(true);
    expect(g.claim('a', 2)).toBe(false);
    expect(g.claim('a', 3)).toBe(true);
    expect(g.claim('b', 2)).toBe(true);
    expect(g.claim('a', 4)).toBe(true);
    expect(g.claim('a', 3)).toBe(false);
  });

  it('remembers a device for at least the window, and forgets it after two', () => {
    let t = 0;
    const g = new NewestGenerations(1000, () => t);
    g.claim('a', 5);
    t = 1500; // one swap: 'a' is in the older map, still remembered
    expect(g.claim('a', 4)).toBe(false);
    t = 3100; // two more swaps without 'a' being claimed again: forgotten
    g.claim('other', 1);
    t = 4200;
    expect(g.claim('a', 4)).toBe(true);
  });
});
