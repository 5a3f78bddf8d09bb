// The admission gate: a bound, FIFO order, and slots returned by closed connections.
import { describe, expect, it } from 'vitest';
import { AdmissionGate } from './admission-gate.ts';

describe('AdmissionGate', () => {
  it('admits up to the bound, queues the rest in order, and admits them as publishes are routed', () => {
    const gate = new AdmissionGate(2);
    const a = { admitted: 0, closed: false };
    const order: number[] = [];
    for (let i = 0; i < 5; i++) gate.admit(a, () => order.push(i));
    expect(order).toEqual([0, 1]);
    gate.routed(a);
    expect(order).toEqual([0, 1, 2]);
    gate.routed(a);
    gate.routed(a);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(gate.peak).toBe(2);
    expect(gate.waited).toBe(3);
  });

  it("gives a closed connection's slots back, and refuses its queued publishes", () => {
    const gate = new AdmissionGate(1);
    const dying = { admitted: 0, closed: false };
    const other = { admitted: 0, closed: false };
    gate.admit(dying, () => undefined);
    const results: (Error | null)[] = [];
    gate.admit(dying, (e) => results.push(e));
    gate.admit(other, (e) => results.push(e));
    dying.closed = true;
    gate.forget(dying);
    expect(results.map((e) => e?.message ?? 'ok')).toEqual(['connection closed', 'ok']);
    expect(other.admitted).toBe(1);
  });
});
