// The PostgreSQL EventLog and WebhookStore against the shared contract, plus two processes appending at once.
import { describe, expect, it } from 'vitest';
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
  eventStoresContract('postgres', async () => openAt(await pg.db('events')), async (first) => {
    await first.close();
    return openAt(urls.get(first)!);
  });

  it('two processes appending at once share one gap-free sequence, each visible in order', async () => {
    const url = await pg.db('events');
    const [a, b] = await Promise.all([PostgresEventLog.open(pg.pool(url, 4)), PostgresEventLog.open(pg.pool(url, 4))]);
    // A reader polls while both write: every page it sees must continue its last number without a hole.
    let reading = true;
    const seen: number[] = [];
    const reader = (async () => {
      while (reading || seen.length < 80) {
        const page = await b.after(seen.at(-1) ?? 0, 1000);
        seen.push(...page.map((e) => e.sequence));
        if (!reading && page.length === 0) break;
      }
    })();
    await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).append({ type: 'rollout.paused', subject: `ro_${i}`, data: { i } })));
    reading = false;
    await reader;
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await a.head()).toBe(80);
  });
});
