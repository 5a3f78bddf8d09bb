// The rollout engine's device directory over a real SQLite registry: previews of whole-fleet, one-tag and
// one-group targets are counted in SQL (no device is listed), and agree with listing; others still list.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { RolloutEngine } from '../rollouts/rollout-engine.ts';
import type { Target } from '../rollouts/target.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import { deviceDirectory } from './rollout-adapters.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-directory-'));
const store = openSqliteStore(join(dir, 'flotilla.db'));
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('counts previewable targets in SQL, agreeing with the listing, and lists only what it cannot count', async () => {
  await store.devices.createMany(
    Array.from({ length: 3000 }, (_, i) => ({
      id: `d${i}`,
      tokenHash: 'h',
      tags: i % 3 ? ['car'] : ['truck'],
      groups: i % 2 ? ['eu'] : ['us'],
    })),
  );
  await store.devices.revoke('d1');
  await store.devices.setPresence('d2', { online: true, at: new Date().toISOString() });
  const real = deviceDirectory(store);
  let listed = 0;
  const directory = {
    ...real,
    list: (t: Target) => {
      listed++;
      return real.list(t);
    },
  };
  const engine = new RolloutEngine({ store: store.rollouts, devices: directory, audit: store.audit } as never);
  for (const target of [{ all: true }, { tags: ['car'] }, { groups: ['eu'] }, { tags: ['car'], groups: ['eu'] }] as Target[]) {
    const p = await engine.preview(target, { stages: [{ percent: 10 }, { percent: 100 }] });
    const all = await real.list(target);
    expect(p).toEqual({
      matching: all.length,
      online: all.filter((d) => d.online).length,
      stageSizes: [Math.ceil(all.length / 10), all.length - Math.ceil(all.length / 10)],
      held: 0,
    });
  }
  expect(listed).toBe(0);
  expect((await engine.preview({ tags: ['car', 'truck'] })).matching).toBe(0);
  expect((await engine.preview({ groups: ['eu'], attributes: { site: 'north' } })).matching).toBe(0);
  expect(listed).toBe(2);
  expect(await real.count!({ deviceIds: ['d3'] })).toBeNull();
});
