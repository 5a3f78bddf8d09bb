// The recovery trigger (seam test; the whole flow against a real server is test/identity/credential-recovery.test.ts):
// a refusal just after a rotation is the broker not having the new token yet, so it does not mint another one.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memory-storage.ts';
import { writeJson } from '../storage/agent-storage.ts';
import { credentialRecovery } from './credential-recovery.ts';
import { DEVICE_KEY } from './enroll.ts';

describe('credentialRecovery', () => {
  it('does not ask the server within the grace after a rotation, and does after it', async () => {
    const storage = new MemoryStorage();
    await writeJson(storage, DEVICE_KEY, { secretKey: '11'.repeat(32) });
    let t = 1_000_000;
    const asked: string[] = [];
    const recovery = credentialRecovery({
      server: 'http://127.0.0.1:9',
      deviceId: 'd1',
      storage,
      configured: 'fdt_x',
      apply: () => undefined,
      rotationGraceMs: 10_000,
      minIntervalMs: 0,
      now: () => t,
      fetch: (async (url: string) => {
        asked.push(url);
        return new Response('{"code":"ENROLLMENT_PROOF_INVALID"}', { status: 401 });
      }) as typeof fetch,
    });
    recovery.rotated();
    t += 9_000;
    expect(await recovery.refused()).toBe(false);
    expect(asked).toEqual([]);
    t += 1_001;
    expect(await recovery.refused()).toBe(false);
    expect(asked).toEqual(['http://127.0.0.1:9/api/v1/recover']);
  });
});
