// The in-process LeaseStore against the contract, and the lease gate's error rule.
import { describe, expect, it } from 'vitest';
import { leaseStoreContract } from './lease-contract.ts';
import { leaseGate, LocalLeaseStore, newHolderId } from './lease.ts';

leaseStoreContract('local', async () => {
  const s = new LocalLeaseStore();
  return { a: s, b: s, close: async () => undefined };
});

describe('leaseGate', () => {
  it('acts only while it holds the lease, and treats a failing store as not holding it', async () => {
    const s = new LocalLeaseStore();
    const one = leaseGate(s, 'rollouts', newHolderId(), 60_000);
    const two = leaseGate(s, 'rollouts', newHolderId(), 60_000);
    expect([await one.check(), await two.check()]).toEqual([true, false]);
    await one.release();
    expect(await two.check()).toBe(true);
    const errors: unknown[] = [];
    const broken = leaseGate(
      { tryAcquire: () => Promise.reject(new Error('db down')), release: async () => undefined },
      'x',
      'h',
      1000,
      (e) => errors.push(e),
    );
    expect(await broken.check()).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
