// Liveness and readiness: no token needed, cheap enough for a load balancer to poll.
import { Hono } from 'hono';
import { checkStorage } from '../../health/storage-check.ts';
import type { AppEnv, Services } from '../app-env.ts';

export function healthRoutes(s: Services) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/readyz', async (c) => {
      try {
        await s.store.tokens.count();
        const disk = checkStorage(s.dataDir);
        if (!disk.ok) return c.json({ ok: false, error: { code: disk.code, message: disk.message } }, 503);
        return c.json({ ok: true, store: s.store.kind });
      } catch (e) {
        return c.json({ ok: false, error: { code: 'STORE_UNAVAILABLE', message: String(e) } }, 503);
      }
    });
}
