// The dispatcher against real HTTP receivers and a real SQLite log: backoff bounds, redirects refused,
// timeouts and 4xx counted as failures, filters skip events without delivering them, the lease gates
// delivery, and a delivery cut short by shutdown is not counted against the hook.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStores } from '@flotilla/test/support/event-stores';
import type { EventLog } from './event-log.ts';
import type { WebhookStore } from './webhook-store.ts';
import { backoff, WebhookDispatcher } from './webhook-dispatcher.ts';
import { verify } from './webhook-signature.ts';

let dir: string;
let stores: ReturnType<typeof openSqliteEventStores>;
let log: EventLog;
let hooks: WebhookStore;
const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}

const SECRET = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
const hook = (id: string, url: string, events = ['*']) =>
  hooks.create({
    id,
    url,
    events,
    secret: SECRET,
    description: '',
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    cursor: 0,
    failures: 0,
    createdAt: new Date().toISOString(),
    createdBy: 't',
  });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-dispatch-'));
  stores = openSqliteEventStores(join(dir, 'events.db'));
  ({ log, hooks } = stores);
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  stores.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('backoff', () => {
  it('doubles from the base, never exceeds the cap, and jitters within the upper half', () => {
    const t = { backoffMs: 1000, backoffMaxMs: 600_000 };
    expect(backoff(1, t, () => 0)).toBe(500);
    expect(backoff(1, t, () => 1)).toBe(1000);
    expect(backoff(4, t, () => 1)).toBe(8000);
    expect(backoff(30, t, () => 1)).toBe(600_000);
    expect(backoff(10_000, t, () => 0)).toBe(300_000);
  });
});

describe('WebhookDispatcher', () => {
  it('delivers only matching events, in order, signed, and moves the cursor past skipped ones', async () => {
    const got: { type: string; ok: boolean }[] = [];
    const url = await serve((req, body, res) => {
      const ok = verify(
        SECRET,
        {
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
        },
        body,
      );
      got.push({ type: JSON.parse(body).type, ok });
      res.writeHead(200).end('fine');
    });
    await hook('wh_1', url, ['alert.*']);
    for (const t of ['rollout.created', 'alert.opened', 'bundle.created', 'alert.resolved', 'rollout.finished'] as const)
      await log.append({ type: t, subject: 's', data: null });
    const d = new WebhookDispatcher({ hooks, log });
    await d.round();
    expect(got).toEqual([
      { type: 'flotilla.alert.opened', ok: true },
      { type: 'flotilla.alert.resolved', ok: true },
    ]);
    expect(await hooks.get('wh_1')).toMatchObject({ cursor: 5, failures: 0 });
    expect((await hooks.deliveries('wh_1')).map((x) => [x.sequence, x.ok, x.status, x.attempt])).toEqual([
      [4, true, 200, 1],
      [2, true, 200, 1],
    ]);
  });

  it('counts a redirect, a 4xx and a timeout as failures, and disables the hook with the last reason', async () => {
    let n = 0;
    const url = await serve((_req, _body, res) => {
      n++;
      if (n === 1) res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else if (n === 2) res.writeHead(410).end();
      // n >= 3: never answer
    });
    await hook('wh_1', url);
    await log.append({ type: 'rollout.created', subject: 's', data: null });
    const d = new WebhookDispatcher({ hooks, log, timings: { backoffMs: 1, backoffMaxMs: 1, maxFailures: 3, timeoutMs: 200 } });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await d.round();
    }
    const h = await hooks.get('wh_1');
    expect(h).toMatchObject({ enabled: false, cursor: 0, failures: 3 });
    expect(h!.disabledReason).toBe(
      'disabled after 3 consecutive failed deliveries; last: no answer within 200 ms (event 1 flotilla.rollout.created)',
    );
    expect((await hooks.deliveries('wh_1')).map((x) => [x.attempt, x.status, x.error])).toEqual([
      [3, null, 'no answer within 200 ms'],
      [2, 410, 'HTTP 410'],
      [1, 302, 'HTTP 302 (redirects are not followed)'],
    ]);
    // Disabled: further rounds do not call it.
    await d.round();
    expect(n).toBe(3);
  });

  it('waits out the backoff between attempts', async () => {
    let calls = 0;
    const url = await serve((_req, _body, res) => {
      calls++;
      res.writeHead(503).end();
    });
    await hook('wh_1', url);
    await log.append({ type: 'rollout.created', subject: 's', data: null });
    const d = new WebhookDispatcher({ hooks, log, timings: { backoffMs: 60_000, backoffMaxMs: 60_000, maxFailures: 10 }, random: () => 0 });
    await d.round();
    await d.round();
    expect(calls).toBe(1);
    expect(await hooks.get('wh_1')).toMatchObject({ enabled: true, failures: 1 });
    // An operator resetting the hook (what `webhooks enable` does) ends the wait.
    await hooks.update('wh_1', { failures: 0 });
    await d.round();
    expect(calls).toBe(2);
  });

  it('delivers nothing without the lease, and a shutdown mid-delivery is not a failure', async () => {
    let held = false;
    const url = await serve(() => {
      /* hangs until the dispatcher stops */
    });
    await hook('wh_1', url);
    await log.append({ type: 'rollout.created', subject: 's', data: null });
    const d = new WebhookDispatcher({ hooks, log, lease: async () => held, timings: { pollMs: 20 } });
    d.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(await hooks.deliveries('wh_1')).toEqual([]);
    held = true;
    d.wake();
    await new Promise((r) => setTimeout(r, 200));
    await d.stop();
    expect(await hooks.get('wh_1')).toMatchObject({ enabled: true, failures: 0, cursor: 0 });
    expect(await hooks.deliveries('wh_1')).toEqual([]);
  });
});
