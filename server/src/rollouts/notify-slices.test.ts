// A 100% stage of 1,000 devices is notified in slices that give the event loop back: a real HTTP server in
// the same process keeps answering /healthz while the engine tells the whole stage. The delivery port costs
// 1 ms of CPU per device (what a desired-state write and publish cost under load), so done in one go the
// stage would hold the loop for a second; sliced, the longest wait is about one slice (100 devices).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRef, RecordingDelivery, request, rig, scratch } from '@flotilla/test/support/rollout-test-kit';
import type { BundleRef } from '@flotilla/firmware-bundler/wire';
import { inSlices, NOTIFY_SLICE } from './slices.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

/** Burns `ms` of CPU on the event loop. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Records every call like the kit's delivery, and costs 1 ms per device like a real one under load. */
class CostlyDelivery extends RecordingDelivery {
  override async setDesired(ids: readonly string[], what: BundleRef | { rollbackTo: string | null }): Promise<void> {
    busy(ids.length);
    await super.setDesired(ids, what);
  }
}

/**
 * Probes /healthz back to back from another process (as a monitor would: a client in this process would need
 * the blocked loop itself for its half of each request) until stopped; returns each answer's latency, ms.
 */
function prober(url: string) {
  const script = `
    const t = []; let on = true;
    process.stdin.on('data', () => { on = false; });
    (async () => {
      while (on) { const t0 = performance.now(); const r = await fetch(${JSON.stringify(url)}); await r.text(); t.push(performance.now() - t0); }
      process.stdout.write(JSON.stringify(t));
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    /** Resolves once the probe has answered at least once. */
    ready: async () => {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(url).catch(() => null);
        if (res) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async (): Promise<number[]> => {
      child.stdin.end('stop');
      await exited;
      return JSON.parse(out) as number[];
    },
  };
}

describe('stage notification in slices', () => {
  it('keeps /healthz answering while a 1,000-device stage is notified', async () => {
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
    try {
      const r = rig(tmp.open('slices'), { delivery: new CostlyDelivery() });
      r.fleet.add(1000);
      const probe = prober(url);
      await probe.ready();
      // The child needs a moment to start probing: give it its first answers before the stage starts.
      await new Promise((res) => setTimeout(res, 300));
      const t0 = performance.now();
      const created = await r.engine.create(request([100], { policy: { rate: { devicesPerMinute: 1_000_000 } } }), 'tok_op');
      const took = performance.now() - t0;
      const latencies = await probe.stop();
      // Every device was told, in slices of at most NOTIFY_SLICE.
      expect(r.delivery.told(bundleRef().id).size).toBe(1000);
      expect(Math.max(...r.delivery.calls.map((c) => c.ids.length))).toBeLessThanOrEqual(NOTIFY_SLICE);
      expect(created.counts.notified).toBe(1000);
      // The port alone held the CPU for a second; /healthz was answered all along. One slice is a tenth of the
      // work, so the longest wait stays far below the whole (half of it: slack for a loaded machine, where
      // everything, the probe included, runs slower); in one go the one answer would wait for all of it.
      expect(took).toBeGreaterThan(1000);
      expect(latencies.length).toBeGreaterThan(5);
      expect(Math.max(...latencies)).toBeLessThan(took / 2);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  it('walks every item once, in order, and stops at a failing slice', async () => {
    const seen: number[][] = [];
    await inSlices(
      Array.from({ length: 250 }, (_, i) => i),
      async (s) => void seen.push(s),
      100,
    );
    expect(seen.map((s) => s.length)).toEqual([100, 100, 50]);
    expect(seen.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const after: number[] = [];
    await expect(
      inSlices(
        [1, 2, 3, 4],
        async (s) => {
          if (s[0] === 3) throw new Error('port down');
          after.push(...s);
        },
        2,
      ),
    ).rejects.toThrow('port down');
    expect(after).toEqual([1, 2]);
  });
});
