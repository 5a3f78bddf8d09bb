// How errors thrown in a route are answered: domain refusals keep their status and code; anything
// else is a 500 that hides its message from the client and leaves it, with a request id, in the log.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { RolloutError } from '../rollouts/rollout-error.ts';
import { StoreError } from '../store/store-error.ts';
import type { AppEnv, Services } from './app-env.ts';
import { handleError } from './errors.ts';

/** An app whose one route throws `err`, logging into the returned array. */
function appThrowing(err: Error) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const app = new Hono<AppEnv>();
  app.onError(handleError);
  app.use('*', async (c, next) => {
    c.set('services', { log } as Services);
    await next();
  });
  app.post('/boom', () => {
    throw err;
  });
  return { app, lines };
}

async function answer(err: Error) {
  const { app, lines } = appThrowing(err);
  const res = await app.request('/boom', { method: 'POST' });
  return {
    status: res.status,
    body: (await res.json()) as { error: { code: string; message: string; details?: { requestId?: string } } },
    lines,
  };
}

describe('handleError', () => {
  it('answers an error with an upper-case system code as a logged 500 without its message', async () => {
    const { status, body, lines } = await answer(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
    expect(status).toBe(500);
    expect(body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(body)).not.toMatch(/disk full|ENOSPC/);
    const requestId = body.error.details?.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.message).toContain(requestId);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', requestId, method: 'POST', path: '/boom', err: expect.stringContaining('disk full') }),
    ]);
  });

  it('does not trust a `status` on an unknown error either', async () => {
    const { status, body } = await answer(
      Object.assign(new Error('UNIQUE constraint failed: devices.id'), { code: 'SQLITE_CONSTRAINT', status: 409 }),
    );
    expect([status, body.error.code]).toEqual([500, 'INTERNAL']);
    expect(body.error.message).not.toContain('UNIQUE');
  });

  it('maps a domain error to its code table status, message and details, without logging it', async () => {
    const notFound = await answer(new RolloutError('ROLLOUT_NOT_FOUND', "rollout 'r1' was not found"));
    expect([notFound.status, notFound.body]).toEqual([
      404,
      { error: { code: 'ROLLOUT_NOT_FOUND', message: "rollout 'r1' was not found" } },
    ]);
    expect(notFound.lines).toEqual([]);
    const invalid = await answer(new RolloutError('INVALID_ROLLOUT', 'stages must grow', { stage: 2 }));
    expect([invalid.status, invalid.body]).toEqual([
      400,
      { error: { code: 'INVALID_ROLLOUT', message: 'stages must grow', details: { stage: 2 } } },
    ]);
    const taken = await answer(new StoreError('DEVICE_EXISTS', "device 'd1' exists"));
    expect([taken.status, taken.body.error.code]).toEqual([409, 'DEVICE_EXISTS']);
  });
});
