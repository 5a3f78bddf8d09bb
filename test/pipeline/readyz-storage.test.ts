// /readyz against a real server process whose data folder counts as full (the free-space floor set above
// any disk): not ready, with the reason, while /healthz still answers.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_READY_MIN_FREE_BYTES: String(Number.MAX_SAFE_INTEGER) } });
});
afterAll(async () => srv?.dispose());

it('says not ready on a full disk, and why', async () => {
  const ready = await srv.api('GET', '/readyz', undefined, '');
  expect(ready.status).toBe(503);
  expect(ready.body.error.code).toBe('STORAGE_FULL');
  expect(ready.body.error.message).toContain('FLOTILLA_READY_MIN_FREE_BYTES');
  expect((await srv.api('GET', '/healthz', undefined, '')).status).toBe(200);
});
