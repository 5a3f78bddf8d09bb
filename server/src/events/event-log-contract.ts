// The contract every EventLog and WebhookStore engine passes (run by the SQLite and PostgreSQL tests).
import { describe, expect, it } from 'vitest';
import type { EventLog } from './event-log.ts';
import { DELIVERIES_KEPT, type WebhookStore, type WebhookWithSecret } from './webhook-store.ts';

export interface EventStores {
  log: EventLog;
  hooks: WebhookStore;
  close(): Promise<void>;
}

const hook = (id: string, over: Partial<WebhookWithSecret> = {}): WebhookWithSecret => ({
  id,
  url: `http://127.0.0.1:9/${id}`,
  events: ['rollout.*'],
  secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
  description: 'd',
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  cursor: 0,
  failures: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'tok_admin',
  ...over,
});

export function eventStoresContract(
  name: string,
  open: () => Promise<EventStores>,
  reopen?: (first: EventStores) => Promise<EventStores>,
): void {
  describe(`event stores contract (${name})`, () => {
    it('numbers events 1, 2, 3… and returns them as CloudEvents, byte-exact data included', async () => {
      const s = await open();
      try {
        expect(await s.log.head()).toBe(0);
        expect(await s.log.after(0)).toEqual([]);
        const data = { model: 'fraud', version: 3, text: 'zero \u0000 and ünïcode', nested: { a: [1, 2.5, null] } };
        const a = await s.log.append({ type: 'model.version_registered', subject: 'fraud@3', data });
        const b = await s.log.append({ type: 'rollout.created', subject: 'ro_1', data: null });
        expect([a.sequence, b.sequence]).toEqual([1, 2]);
        expect(a).toMatchObject({
          specversion: '1.0',
          type: 'flotilla.model.version_registered',
          source: '/flotilla/models',
          subject: 'fraud@3',
          datacontenttype: 'application/json',
          data,
        });
        expect(a.id).not.toBe(b.id);
        expect(Date.parse(a.time)).toBeGreaterThan(0);
        expect(await s.log.after(0)).toEqual([a, b]);
        expect(await s.log.after(1)).toEqual([b]);
        expect(await s.log.head()).toBe(2);
      } finally {
        await s.close();
      }
    });

    it('concurrent appends get gap-free, unique numbers, and pages resume exactly after N', async () => {
      const s = await open();
      try {
        const made = await Promise.all(
          Array.from({ length: 60 }, (_, i) => s.log.append({ type: 'alert.opened', subject: `al_${i}`, data: { i } })),
        );
        expect(made.map((e) => e.sequence).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        const read: number[] = [];
        for (let after = 0; ;) {
          const page = await s.log.after(after, 7);
          if (page.length === 0) break;
          read.push(...page.map((e) => e.sequence));
          after = page.at(-1)!.sequence;
        }
        expect(read).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        expect((await s.log.after(0, 5000)).length).toBe(60);
      } finally {
        await s.close();
      }
    });

    if (reopen) {
      it('numbering continues after the store is reopened', async () => {
        const s = await open();
        await s.log.append({ type: 'bundle.created', subject: 'b1', data: {} });
        await s.log.append({ type: 'bundle.created', subject: 'b2', data: {} });
        const again = await reopen(s);
        try {
          const e = await again.log.append({ type: 'bundle.created', subject: 'b3', data: {} });
          expect(e.sequence).toBe(3);
          expect((await again.log.after(1)).map((x) => x.subject)).toEqual(['b2', 'b3']);
        } finally {
          await again.close();
        }
      });
    }

    it('stores webhooks, never lists their secret, and updates delivery state', async () => {
      const s = await open();
      try {
        const created = await s.hooks.create(hook('wh_a'));
        expect(created).not.toHaveProperty('secret');
        await s.hooks.create(hook('wh_b', { events: ['*'], createdAt: '2026-01-02T00:00:00.000Z' }));
        const listed = await s.hooks.list();
        expect(listed.map((h) => h.id)).toEqual(['wh_a', 'wh_b']);
        for (const h of listed) expect(h).not.toHaveProperty('secret');
        expect((await s.hooks.get('wh_a'))?.secret).toBe(hook('wh_a').secret);
        expect(
          await s.hooks.update('wh_a', {
            cursor: 41,
            failures: 3,
            enabled: false,
            disabledReason: 'HTTP 500',
            disabledAt: '2026-01-03T00:00:00.000Z',
          }),
        ).toBe(true);
        expect(await s.hooks.get('wh_a')).toMatchObject({
          cursor: 41,
          failures: 3,
          enabled: false,
          disabledReason: 'HTTP 500',
          disabledAt: '2026-01-03T00:00:00.000Z',
          events: ['rollout.*'],
        });
        expect(await s.hooks.update('wh_a', { enabled: true, disabledReason: null, disabledAt: null })).toBe(true);
        expect(await s.hooks.get('wh_a')).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, cursor: 41 });
        expect(await s.hooks.update('wh_missing', { cursor: 1 })).toBe(false);
        expect(await s.hooks.get('wh_missing')).toBeNull();
        expect(await s.hooks.remove('wh_b')).toBe(true);
        expect(await s.hooks.remove('wh_b')).toBe(false);
        expect((await s.hooks.list()).map((h) => h.id)).toEqual(['wh_a']);
      } finally {
        await s.close();
      }
    });

    it('keeps the newest deliveries per hook, newest first, without touching other hooks', async () => {
      const s = await open();
      try {
        await s.hooks.create(hook('wh_a'));
        await s.hooks.create(hook('wh_b'));
        const d = (hookId: string, i: number) => ({
          hookId,
          eventId: `e${i}`,
          sequence: i,
          type: 'flotilla.rollout.created',
          attempt: 1,
          ok: i % 2 === 0,
          status: i % 2 === 0 ? 204 : 500,
          error: i % 2 === 0 ? null : 'HTTP 500',
          latencyMs: 3,
          at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        });
        await s.hooks.addDelivery(d('wh_b', 0));
        for (let i = 1; i <= DELIVERIES_KEPT + 5; i++) await s.hooks.addDelivery(d('wh_a', i));
        const a = await s.hooks.deliveries('wh_a', 1000);
        expect(a.length).toBe(DELIVERIES_KEPT);
        expect(a[0]).toMatchObject({
          sequence: DELIVERIES_KEPT + 5,
          ok: false,
          status: 500,
          error: 'HTTP 500',
          hookId: 'wh_a',
          eventId: `e${DELIVERIES_KEPT + 5}`,
        });
        expect(a.at(-1)!.sequence).toBe(6);
        expect((await s.hooks.deliveries('wh_a', 2)).map((x) => x.sequence)).toEqual([DELIVERIES_KEPT + 5, DELIVERIES_KEPT + 4]);
        expect(await s.hooks.deliveries('wh_b')).toEqual([expect.objectContaining({ sequence: 0, ok: true, status: 204, error: null })]);
        await s.hooks.remove('wh_a');
        expect(await s.hooks.deliveries('wh_a')).toEqual([]);
      } finally {
        await s.close();
      }
    });
  });
}
