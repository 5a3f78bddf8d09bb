// Webhook delivery against a real local HTTP server: signature, retries on 5xx, none on 4xx, timeouts bounded.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertChange } from './alert.ts';
import { WebhookNotifier } from './webhook-notifier.ts';

interface Hit {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(null));
  server = null;
});

/** Starts a server that answers each request with the next handler's status (the last one repeats). */
async function serve(statuses: (number | 'hang')[]): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body });
      const s = statuses[Math.min(hits.length - 1, statuses.length - 1)]!;
      if (s !== 'hang') res.writeHead(s).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, hits };
}

const change = (type: AlertChange['type']): AlertChange => ({
  type,
  alert: {
    id: 'a1',
    cohort: 'north',
    model: 'cam@1.0.0',
    features: [],
    severity: 'critical',
    since: '2026-03-01T00:00:00.000Z',
    windows: 2,
    state: 'open',
    openedAt: '2026-03-01T00:02:00.000Z',
    updatedAt: '2026-03-01T00:02:00.000Z',
    resolvedAt: null,
    resolvedBy: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
  },
});

describe('WebhookNotifier', () => {
  it('POSTs the alert as JSON with an HMAC signature, retrying a 503 until it is accepted', async () => {
    const { url, hits } = await serve([503, 200]);
    const n = new WebhookNotifier([{ url, secret: 's3cret', backoffMs: 10 }]);
    n.notify(change('raised'));
    await n.flush();
    expect(hits).toHaveLength(2);
    const body = JSON.parse(hits[1]!.body);
    expect(body).toMatchObject({ type: 'alert.raised', alert: { id: 'a1', cohort: 'north' } });
    expect(hits[1]!.headers['content-type']).toBe('application/json');
    expect(hits[1]!.headers['x-flotilla-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(hits[1]!.body).digest('hex')}`);
    expect(n.stats).toEqual({ delivered: 1, failed: 0, dropped: 0 });
  });

  it('gives up at once on a 4xx, and after the bounded retries on a server that never answers', async () => {
    const refused = await serve([400]);
    const n = new WebhookNotifier([{ url: refused.url, backoffMs: 10 }]);
    n.notify(change('resolved'));
    await n.flush();
    expect(refused.hits).toHaveLength(1);
    expect(n.stats.failed).toBe(1);
    server?.closeAllConnections();
    await new Promise((r) => server!.close(r));

    const hanging = await serve(['hang']);
    const m = new WebhookNotifier([{ url: hanging.url, timeoutMs: 100, retries: 2, backoffMs: 10 }]);
    m.notify(change('raised'));
    await m.flush();
    expect(hanging.hits).toHaveLength(3);
    expect(m.stats).toEqual({ delivered: 0, failed: 1, dropped: 0 });
  });

  it('sends only the changes a target asks for (default: raised, escalated, resolved)', async () => {
    const { url, hits } = await serve([200]);
    const n = new WebhookNotifier([{ url }, { url, events: ['updated'] }]);
    for (const t of ['raised', 'updated', 'acknowledged', 'escalated', 'resolved'] as const) n.notify(change(t));
    await n.flush();
    expect(hits.map((h) => JSON.parse(h.body).type).sort()).toEqual(['alert.escalated', 'alert.raised', 'alert.resolved', 'alert.updated']);
  });

  it('a target that cannot be reached fails without throwing', async () => {
    const n = new WebhookNotifier([{ url: 'http://127.0.0.1:1/nothing', retries: 1, backoffMs: 10 }]);
    n.notify(change('raised'));
    await n.flush();
    expect(n.stats.failed).toBe(1);
  });
});
