// The SQLite store against the shared Store contract, plus what only a file-backed store can show.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeContract } from '../store-contract.ts';
import { openSqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite file', async () => openSqliteStore(join(dir, `s${n++}.db`)));

describe('SqliteStore', () => {
  it('keeps data across reopen and does not re-apply migrations', async () => {
    const path = join(dir, 'reopen.db');
    const a = openSqliteStore(path);
    await a.tokens.create({ id: 't', name: 'x', role: 'admin', hash: 'h' });
    await a.close();
    const b = openSqliteStore(path);
    expect((await b.tokens.findByHash('h'))?.id).toBe('t');
    await b.close();
  });

  it('lists a 10,000-device fleet by page and filter without scanning it for every page', async () => {
    const s = openSqliteStore(join(dir, 'fleet.db'));
    await s.devices.createMany(Array.from({ length: 10_000 }, (_, i) => ({
      id: `d${String(i).padStart(5, '0')}`, tokenHash: `h${i}`, tags: [i % 100 === 0 ? 'rare' : 'common', i % 2 ? 'odd' : 'even'], groups: [`g${i % 10}`],
    })));
    for (let i = 0; i < 10_000; i += 7) await s.devices.setPresence(`d${String(i).padStart(5, '0')}`, { online: true, at: '2026-01-01T00:00:00.000Z' });
    const t0 = performance.now();
    const rare = await s.devices.list({ tag: 'rare', limit: 50 });
    const online = await s.devices.list({ online: true, after: 'd05000', limit: 100 });
    const group = await s.devices.count({ group: 'g3', online: true });
    const elapsed = performance.now() - t0;
    expect(rare.devices).toHaveLength(50);
    expect(rare.next).toBe('d04900');
    expect(online.devices[0]!.id).toBe('d05005');
    expect(group).toBeGreaterThan(100);
    // Generous: these are index lookups, milliseconds even on a loaded machine.
    expect(elapsed).toBeLessThan(2000);
    await s.close();
  });
});
