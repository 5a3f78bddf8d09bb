// The PostgreSQL EventLog and WebhookStore against the shared contract, plus two processes appending at
// once, and two processes' dispatchers on one database delivering each event once (the 'webhooks' lease).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebhookDispatcher } from '../../events/webhook-dispatcher.ts';
import { leaseGate } from '../lease.ts';
import { PostgresLeaseStore } from './leases.ts';
import { eventStoresContract, type EventStores } from '../../events/event-log-contract.ts';
import { PostgresEventLog } from './postgres-event-log.ts';
import { PostgresWebhookStore } from './postgres-webhook-store.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch } from './pg-test-kit.ts';

const pg = pgScratch(startPostgres);
const urls = new WeakMap<EventStores, string>();

async function openAt(url: string): Promise<EventStores> {
  const pool = pg.pool(url);
  const s: EventStores = { log: await PostgresEventLog.open(pool), hooks: await PostgresWebhookStore.open(pool), close: () => pool.end() };
  urls.set(s, url);
  return s;
}

describe.skipIf(postgresMissing())('PostgreSQL event stores', () => {
  eventStoresContract(
    'postgres',
    async () => openAt(await pg.db('events')),
    async (first) => {
      await first.close();
      return openAt(urls.get(first)!);
    },
  );

  it('two processes appending at once share one gap-free sequence, each visible in order', async () => {
    const url = await pg.db('events');
    const [a, b] = await Promise.all([PostgresEventLog.open(pg.pool(url, 4)), PostgresEventLog.open(pg.pool(url, 4))]);
    // A reader polls while both write: every page it sees must continue its last number without a hole.
    let reading = true;
    const seen: number[] = [];
    const poll = async () => {
      const page = await b.after(seen.at(-1) ?? 0, 1000);
      seen.push(...page.map((e) => e.sequence));
      return page.length;
    };
    // Once the writers are done, read on until a page that started after the last commit comes back empty (a page
    // already in flight when they finished may have missed the last events).
    const reader = (async () => {
      while (reading) await poll();
      while ((await poll()) > 0);
    })();
    await Promise.all(
      Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).append({ type: 'rollout.paused', subject: `ro_${i}`, data: { i } })),
    );
    reading = false;
    await reader;
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await a.head()).toBe(80);
  });

  it('two dispatchers on one database deliver each event once, in order, under the webhooks lease', async () => {
    const url = await pg.db('events');
    const got: number[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(JSON.parse(body).sequence);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as AddressInfo).port;
    const processes = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const pool = pg.pool(url, 3);
        const [stores, leases] = await Promise.all([openAt(url), PostgresLeaseStore.open(pool)]);
        const lease = leaseGate(leases, 'webhooks', name, 60_000);
        return {
          stores,
          dispatcher: new WebhookDispatcher({ hooks: stores.hooks, log: stores.log, lease: lease.check, timings: { pollMs: 20 } }),
        };
      }),
    );
    const [a, b] = processes;
    await a!.stores.hooks.create({
      id: 'wh_1',
      url: `http://127.0.0.1:${port}/`,
      events: ['*'],
      secret: 'a secret of sixteen+ bytes',
      description: '',
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      cursor: 0,
      failures: 0,
      createdAt: new Date().toISOString(),
      createdBy: 't',
    });
    for (const p of processes) p.dispatcher.start();
    for (let i = 0; i < 30; i++) await (i % 2 ? a : b)!.stores.log.append({ type: 'alert.opened', subject: `al_${i}`, data: null });
    try {
      await expect.poll(() => got.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(30);
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      await Promise.all(processes.map((p) => p.dispatcher.stop()));
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});
