// The SQLite telemetry store against the shared contract, on real files, plus what only SQLite shows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from './db.ts';
import { SqliteTelemetryStore } from './sqlite-telemetry-store.ts';
import { contractWindow, telemetryStoreContract } from '../../monitoring/telemetry-store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-telemetry-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

telemetryStoreContract('sqlite file', async () => {
  const db = openDb(join(dir, `t${n++}.db`));
  return { store: new SqliteTelemetryStore(db), close: async () => void db.close() };
});

describe('SqliteTelemetryStore', () => {
  it('keeps windows and rollups across reopen, so a resend after a restart is still a duplicate', async () => {
    const path = join(dir, 'reopen.db');
    const t = Date.parse('2026-03-01T10:00:00Z');
    const a = openDb(path);
    expect(
      await new SqliteTelemetryStore(a).insertWindows([{ deviceId: 'd1', cohorts: ['c'], window: contractWindow(7, t), receivedAt: t }]),
    ).toEqual([true]);
    a.close();
    const b = openDb(path);
    const s = new SqliteTelemetryStore(b);
    expect(await s.insertWindows([{ deviceId: 'd1', cohorts: ['c'], window: contractWindow(7, t), receivedAt: t }])).toEqual([false]);
    expect((await s.rollups({ scope: 'cohort', id: 'c', from: t, to: t + 3_600_000 }))[0]?.windows).toBe(1);
    b.close();
  });

  it('a batch is one transaction: a row SQLite refuses leaves nothing of the batch behind', async () => {
    const db = openDb(join(dir, 'tx.db'));
    const s = new SqliteTelemetryStore(db);
    const t = Date.parse('2026-03-01T10:00:00Z');
    const bad = { ...contractWindow(2, t), start: 'not a time' };
    await expect(
      s.insertWindows([
        { deviceId: 'd1', cohorts: ['c'], window: contractWindow(1, t), receivedAt: t },
        { deviceId: 'd1', cohorts: ['c'], window: bad, receivedAt: t },
      ]),
    ).rejects.toThrow();
    expect(await s.windows({ deviceId: 'd1' })).toEqual([]);
    expect(await s.rollups({ scope: 'fleet', id: '*', from: 0, to: t + 3_600_000 })).toEqual([]);
    db.close();
  });
});
