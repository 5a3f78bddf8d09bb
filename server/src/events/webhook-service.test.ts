// WebhookService on a real SQLite store: what an admin may configure, the secret shown only at creation,
// enable/disable/remove, and the cap on hooks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStores } from '@flotilla/test/support/event-stores';
import { MAX_WEBHOOKS, WebhookService } from './webhook-service.ts';

let dir: string;
let stores: ReturnType<typeof openSqliteEventStores>;
let changes: number;
let svc: WebhookService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-hooks-'));
  stores = openSqliteEventStores(join(dir, 'events.db'));
  changes = 0;
  svc = new WebhookService(stores.hooks, stores.log, () => changes++);
});

afterEach(() => {
  stores.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code: string }) => e.code,
  );

describe('WebhookService', () => {
  it('creates hooks that start after the newest event and shows the secret once', async () => {
    await stores.log.append({ type: 'alert.opened', subject: 'a', data: null });
    const h = await svc.add(
      { url: 'https://hooks.example.com/x?y=1', events: ['flotilla.rollout.*', 'alert.opened'], description: 'ops' },
      'tok_admin',
    );
    expect(h).toMatchObject({
      url: 'https://hooks.example.com/x?y=1',
      events: ['rollout.*', 'alert.opened'],
      cursor: 1,
      enabled: true,
      createdBy: 'tok_admin',
      description: 'ops',
    });
    expect(h.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await svc.get(h.id)).not.toHaveProperty('secret');
    expect(JSON.stringify(await svc.list())).not.toContain(h.secret);
    expect(changes).toBe(1);
  });

  it('refuses what it cannot deliver safely, with the code and the reason', async () => {
    expect(await code(svc.add({ url: 'file:///etc/passwd', events: ['*'] }, 'a'))).toBe('INVALID_WEBHOOK');
    expect(await code(svc.add({ url: `http://x.example/${'a'.repeat(2100)}`, events: ['*'] }, 'a'))).toBe('INVALID_WEBHOOK');
    expect(await code(svc.add({ url: 'http://x.example/', events: ['deploy.*'] }, 'a'))).toBe('INVALID_EVENT_FILTER');
    expect(await code(svc.add({ url: 'http://x.example/', events: ['*'], secret: 'whsec_AAAA' }, 'a'))).toBe('INVALID_WEBHOOK');
    expect(await svc.list()).toEqual([]);
  });

  it('disables, enables (resetting failures, keeping the cursor) and removes; unknown ids are NOT_FOUND', async () => {
    const h = await svc.add({ url: 'http://127.0.0.1:9/', events: ['*'] }, 'a');
    await stores.hooks.update(h.id, { failures: 4, cursor: 7 });
    expect(await svc.disable(h.id, 'maintenance')).toMatchObject({ enabled: false, disabledReason: 'maintenance' });
    expect(await svc.enable(h.id)).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, failures: 0, cursor: 7 });
    expect(await svc.deliveries(h.id)).toEqual([]);
    await svc.remove(h.id);
    for (const p of [svc.get(h.id), svc.enable(h.id), svc.disable(h.id, ''), svc.remove(h.id), svc.deliveries(h.id)])
      expect(await code(p)).toBe('NOT_FOUND');
  });

  it(`keeps at most ${MAX_WEBHOOKS} hooks`, async () => {
    for (let i = 0; i < MAX_WEBHOOKS; i++) await svc.add({ url: `http://127.0.0.1:9/${i}`, events: ['*'] }, 'a');
    expect(await code(svc.add({ url: 'http://127.0.0.1:9/x', events: ['*'] }, 'a'))).toBe('TOO_MANY_WEBHOOKS');
  });
});
