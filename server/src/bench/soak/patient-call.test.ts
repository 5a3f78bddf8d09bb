// The soak's calls to a slow or dead server: retried with a deadline, and the final error says why.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeError, patiently } from './patient-call.ts';

describe('patiently', () => {
  it('retries a failing call and returns its first success', async () => {
    let tries = 0;
    const v = await patiently(
      'flaky',
      async () => {
        if (++tries < 3) throw new Error(`try ${tries}`);
        return 'ok';
      },
      { attempts: 3, pauseMs: 1 },
    );
    expect([v, tries]).toEqual(['ok', 3]);
  });

  it('gives up after its attempts with every cause named: a refused connection and a call past its deadline', async () => {
    // A port that was just free: nothing listens there, so fetch fails with ECONNREFUSED in its cause.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const refused = await patiently('GET /x', (signal) => fetch(`http://127.0.0.1:${port}/x`, { signal }), {
      attempts: 2,
      pauseMs: 1,
    }).catch((e: Error) => e);
    expect(String((refused as Error).message)).toMatch(/^GET \/x failed 2 times: fetch failed ← .*ECONNREFUSED/);
    const slow = await patiently('slow', (signal) => new Promise((_, rej) => signal.addEventListener('abort', () => rej(signal.reason))), {
      attempts: 1,
      timeoutMs: 50,
    }).catch((e: Error) => e);
    expect(describeError(slow)).toMatch(/slow failed 1 times: timed out/);
  });
});
