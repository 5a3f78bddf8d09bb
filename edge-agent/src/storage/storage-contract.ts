// The AgentStorage contract, one suite for every implementation (Hono's common-case pattern).
import { describe, expect, it } from 'vitest';
import type { AgentStorage } from './agent-storage.ts';

/** Registers the contract tests for storages made by `open` (a fresh, empty one per call). */
export function storageContract(name: string, open: () => Promise<AgentStorage>): void {
  describe(`AgentStorage contract: ${name}`, () => {
    const bytes = (...v: number[]) => new Uint8Array(v);

    it('reads back what it wrote, null for a missing key', async () => {
      const s = await open();
      expect(await s.read('a/b.bin')).toBeNull();
      await s.write('a/b.bin', bytes(1, 2, 3));
      expect(await s.read('a/b.bin')).toEqual(bytes(1, 2, 3));
      await s.write('a/b.bin', bytes(9));
      expect(await s.read('a/b.bin')).toEqual(bytes(9));
    });

    it('lists keys by prefix, sorted, and deletes idempotently', async () => {
      const s = await open();
      for (const k of ['x/2', 'x/1', 'x/sub/3', 'y/1']) await s.write(k, bytes(1));
      expect(await s.list('x/')).toEqual(['x/1', 'x/2', 'x/sub/3']);
      await s.delete('x/1');
      await s.delete('x/1');
      expect(await s.list('x/')).toEqual(['x/2', 'x/sub/3']);
      expect(await s.list('nothing/')).toEqual([]);
    });

    it('keeps a copy: changing the written array later changes nothing', async () => {
      const s = await open();
      const b = bytes(1, 2);
      await s.write('k', b);
      b[0] = 7;
      expect(await s.read('k')).toEqual(bytes(1, 2));
    });

    it('refuses keys that could escape its root', async () => {
      const s = await open();
      for (const k of ['../x', '/abs', 'a//b', 'a/../b', '', 'a\\b', 'a/./b'])
        await expect(s.write(k, bytes(1)), k).rejects.toThrow(/invalid storage key/);
    });
  });
}
