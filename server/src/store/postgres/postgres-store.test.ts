// The PostgreSQL store against the shared Store contract (a fresh database per case on one throwaway
// cluster), plus what only a shared server database can show: reopening, concurrent migration, and
// two processes (two pools) writing the same rows at once.
import { describe, expect, it } from 'vitest';
import type { Store } from '../store.ts';
import { storeContract } from '../store-contract.ts';
import { openPool } from './pg-db.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';
import { pgScratch, withStores } from './pg-test-kit.ts';
import { openPostgresStore, parseStoreUrl } from './postgres-store.ts';

const pg = pgScratch(startPostgres);

describe('parseStoreUrl', () => {
  it('takes pool_max off the URL and refuses a bad one', () => {
    expect(parseStoreUrl('postgres://u:p%40ss@h:5/db')).toEqual({ url: 'postgres://u:p%40ss@h:5/db', poolMax: 10 });
    expect(parseStoreUrl('postgres://u@h/db?pool_max=3&sslmode=disable')).toEqual({ url: 'postgres://u@h/db?sslmode=disable', poolMax: 3 });
    expect(() => parseStoreUrl('postgres://u@h/db?pool_max=0')).toThrow(/pool_max must be a positive integer/);
  });
});

describe.skipIf(postgresMissing())('PostgresStore', () => {
  storeContract('postgres', async () => openPostgresStore(await pg.db('contract')));

  it('lets two processes migrate the same empty database at the same time', async () => {
    const url = await pg.db('race');
    const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    await withStores([a, b], async () => {
      await a.devices.createMany([{ id: 'd1', tokenHash: 'h' }]);
      expect((await b.devices.get('d1'))?.id).toBe('d1');
    });
  });

  it('gives unique, strictly increasing desired revisions when two processes set the same devices at once', async () => {
    const url = await pg.db('desired');
    const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    await withStores([a, b], async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `d${String(i).padStart(2, '0')}`);
      await a.devices.createMany(ids.map((id) => ({ id, tokenHash: id })));
      const seen = new Map<string, number[]>(ids.map((id) => [id, []]));
      const rounds = 15;
      // Opposite id orders in the two processes: the store locks in id order, so this cannot deadlock.
      const writer = async (s: Store, order: string[], tag: string) => {
        for (let r = 0; r < rounds; r++) {
          const out = await s.devices.setDesired(
            order,
            (rev, d) => {
              seen.get(d.id)!.push(rev);
              return { rev, by: tag };
            },
            null,
          );
          expect(out.size).toBe(ids.length);
        }
      };
      await Promise.all([writer(a, ids, 'a'), writer(b, [...ids].reverse(), 'b')]);
      for (const id of ids) {
        const revs = seen.get(id)!;
        // Each process calls make() once per device per round; the revisions handed out are 1..2*rounds, once each.
        expect([...revs].sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * rounds }, (_, i) => i + 1));
        expect(revs).toEqual([...revs].sort((x, y) => x - y));
        const d = (await b.devices.get(id))!;
        expect(d.desiredRev).toBe(2 * rounds);
        expect((d.desired as { rev: number }).rev).toBe(2 * rounds);
      }
    });
  });

  it('numbers model versions and chains alias moves without gaps when two processes write at once', async () => {
    const url = await pg.db('models');
    const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    await withStores([a, b], async () => {
      const v = {
        model: 'm',
        runId: null,
        format: 'onnx' as const,
        artifacts: {},
        signature: null,
        metrics: null,
        quantization: null,
        tags: ['t'],
        description: '',
      };
      const add = async (s: Store) => {
        const out: number[] = [];
        for (let i = 0; i < 10; i++) out.push((await s.models.addVersion(v)).version);
        return out;
      };
      const versions = (await Promise.all([add(a), add(b)])).flat().sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const move = async (s: Store, actor: string) => {
        for (let i = 1; i <= 10; i++) await s.models.moveAlias({ model: 'm', alias: 'champion', toVersion: i, actor, reason: 'race' });
      };
      await Promise.all([move(a, 'a'), move(b, 'b')]);
      const history = await a.models.aliasHistory('m');
      expect(history).toHaveLength(20);
      // Every move starts where the previous one left the alias: none read a stale version.
      history.forEach((h, i) => expect(h.fromVersion).toBe(i === 0 ? null : history[i - 1]!.toVersion));
    });
  });

  it('orders ids by byte order in a database whose default collation is ICU en-US', async () => {
    // en-US sorts '_x' first and 'B' after 'b'; the contract expects SQLite's byte order.
    const maintenance = openPool((await pg.db('maint')).replace(/\/[^/]+$/, '/postgres'));
    await maintenance.query(
      `CREATE DATABASE icu_${process.pid} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0`,
    );
    await maintenance.end();
    const url = (await pg.db('maint')).replace(/\/[^/]+$/, `/icu_${process.pid}`);
    const s = await openPostgresStore(url);
    await withStores([s], async () => {
      const ids = ['b', 'a_1', 'B', 'a1', '_x', 'a-1', 'Z9'];
      await s.devices.createMany(ids.map((id, i) => ({ id, tokenHash: `h${i}`, tags: ['t'] })));
      const byteOrder = ['B', 'Z9', '_x', 'a-1', 'a1', 'a_1', 'b'];
      expect((await s.devices.list({ tag: 't' })).devices.map((d) => d.id)).toEqual(byteOrder);
      expect((await s.devices.list({ after: '_x' })).devices.map((d) => d.id)).toEqual(byteOrder.slice(3));
      await s.devices.setDesired(ids, (rev) => ({ rev }), null);
      expect((await s.devices.listDesired('Z9', 100)).map((d) => d.id)).toEqual(byteOrder.slice(2));
      for (const model of ['b', 'B', '_m'])
        await s.models.addVersion({
          model,
          runId: null,
          format: 'onnx',
          artifacts: {},
          signature: null,
          metrics: null,
          quantization: null,
          tags: [],
          description: '',
        });
      expect((await s.models.listModels()).map((m) => m.name)).toEqual(['B', '_m', 'b']);
    });
  });

  it('stores a NUL inside JSONB metadata as U+FFFD instead of failing the write', async () => {
    const s = await openPostgresStore(await pg.db('nul'));
    await withStores([s], async () => {
      await s.audit.record({ actor: 'a', action: 'x', subject: 's', detail: { text: 'a\u0000b', literal: '\\u0000' } });
      expect((await s.audit.list())[0]!.detail).toEqual({ text: 'a\ufffdb', literal: '\\u0000' });
    });
  });
});
