// The LeaseStore contract: every implementation runs these cases (lease.test.ts, postgres/leases.test.ts).
import { describe, expect, it } from 'vitest';
import { freshEach } from '../contract-suites/fresh-each.ts';
import type { LeaseStore } from './lease.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `open` gives two stores on one back end (two processes' views; the same object where there is one process). */
export function leaseStoreContract(name: string, open: () => Promise<{ a: LeaseStore; b: LeaseStore; close(): Promise<void> }>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const fresh = freshEach(open, (h) => h);
    const withStores = (fn: (a: LeaseStore, b: LeaseStore) => Promise<void>) => fresh((h) => fn(h.a, h.b));

    it(
      'refuses a second holder until the lease expires, then hands it over',
      withStores(async (a, b) => {
        expect(await a.tryAcquire('rollouts', 'p1', 600)).toBe(true);
        expect(await b.tryAcquire('rollouts', 'p2', 600)).toBe(false);
        expect(await a.tryAcquire('rollouts', 'p1', 600)).toBe(true);
        expect(await b.tryAcquire('retraining', 'p2', 600)).toBe(true);
        await sleep(800);
        expect(await b.tryAcquire('rollouts', 'p2', 600)).toBe(true);
        expect(await a.tryAcquire('rollouts', 'p1', 600)).toBe(false);
      }),
    );

    it(
      'renewing pushes the expiry forward',
      withStores(async (a, b) => {
        expect(await a.tryAcquire('rollouts', 'p1', 1500)).toBe(true);
        await sleep(900);
        expect(await a.tryAcquire('rollouts', 'p1', 1500)).toBe(true);
        await sleep(900);
        expect(await b.tryAcquire('rollouts', 'p2', 1500)).toBe(false);
      }),
    );

    it(
      'release hands the lease over at once; a non-holder cannot release it',
      withStores(async (a, b) => {
        expect(await a.tryAcquire('rollouts', 'p1', 60_000)).toBe(true);
        await b.release('rollouts', 'p2');
        expect(await b.tryAcquire('rollouts', 'p2', 60_000)).toBe(false);
        await a.release('rollouts', 'p1');
        expect(await b.tryAcquire('rollouts', 'p2', 60_000)).toBe(true);
        expect(await a.tryAcquire('rollouts', 'p1', 60_000)).toBe(false);
      }),
    );

    it(
      'of many processes racing for a free lease, exactly one gets it',
      withStores(async (a, b) => {
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).tryAcquire('race', `p${i}`, 60_000)));
        expect(got.filter(Boolean)).toHaveLength(1);
      }),
    );
  });
}
