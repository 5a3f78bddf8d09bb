// The ticker: ticks on its interval, never two at once, reports failures instead of throwing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TickReport } from './rollout-engine.ts';
import { startRolloutTicker } from './rollout-ticker.ts';

afterEach(() => vi.useRealTimers());

describe('startRolloutTicker', () => {
  it('skips a tick while one is in flight, reports results and errors, and stop waits for the last tick', async () => {
    vi.useFakeTimers();
    let calls = 0;
    let release: () => void = () => undefined;
    const engine = {
      tick: () => {
        calls += 1;
        if (calls === 2) return Promise.reject(new Error('store locked'));
        return new Promise<TickReport>((res) => {
          release = () => res({ stepped: ['ro_1'], errors: [] });
        });
      },
    };
    const reports: TickReport[] = [];
    const errors: unknown[] = [];
    const t = startRolloutTicker(engine, { intervalMs: 1000, onReport: (r) => reports.push(r), onError: (e) => errors.push(e) });
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect([calls, reports.length, errors.length]).toEqual([2, 1, 1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(3);
    const stopped = t.stop();
    release();
    await stopped;
    await vi.advanceTimersByTimeAsync(5000);
    expect([calls, reports.length]).toEqual([3, 2]);
  });
});

describe('startRolloutTicker with a lease', () => {
  it('ticks only while the lease says this process holds it', async () => {
    vi.useFakeTimers();
    let calls = 0;
    let mine = false;
    const engine = { tick: async (): Promise<TickReport> => ({ stepped: [`t${++calls}`], errors: [] }) };
    const reports: TickReport[] = [];
    const t = startRolloutTicker(engine, { intervalMs: 1000, onReport: (r) => reports.push(r), lease: async () => mine });
    await vi.advanceTimersByTimeAsync(3000);
    expect([calls, reports.length]).toEqual([0, 0]);
    mine = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect([calls, reports.length]).toEqual([2, 2]);
    await t.stop();
  });
});
