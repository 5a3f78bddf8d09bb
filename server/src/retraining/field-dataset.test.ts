// Field datasets: lineage names the parent, the bytes (and so the digest) depend only on the content, the
// newest samples are held out, cohorts filter, and the parent's test rows stay out of training data.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeDataset } from '../datasets/canonical-format.ts';
import { buildFieldDataset, isFieldProvenance } from './field-dataset.ts';
import { openWorld, sample } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
beforeEach(async () => {
  world = await openWorld();
});
afterEach(async () => world.close());

describe('buildFieldDataset', () => {
  it('records the parent digest as lineage and holds out the newest samples', async () => {
    await world.samples.insertMany(Array.from({ length: 10 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })));
    const r = await buildFieldDataset(world, { parent: 'toy', holdoutFraction: 0.3 });
    expect(r.version.parents).toEqual([world.parent.digest]);
    expect(r.version.name).toBe('toy-field');
    expect(r.version.source).toContain('7 labelled');
    expect(r.fieldRows).toBe(7);
    expect(r.holdout.n).toBe(3);
    expect(r.parentTest.n).toBe(10);
    // 90 parent train/validation rows + 7 field rows; the parent's 10 test rows are left out.
    const stored = decodeDataset((await world.blobs.get(r.version.digest))!).data;
    expect(stored.n).toBe(97);
    expect(await world.store.datasets.get(r.version.digest)).not.toBeNull();
  });

  it('leaves out a label that fewer than minDevicesPerLabel devices sent, however many samples one device sent', async () => {
    // cam-evil alone sends 40 samples all labelled 1; label 0 comes from two devices.
    await world.samples.insertMany([
      ...Array.from({ length: 40 }, (_, i) => sample('cam-evil', 100 + i, { label: 1 })),
      ...Array.from({ length: 3 }, (_, i) => sample('cam-1', i, { label: 0 })),
      ...Array.from({ length: 3 }, (_, i) => sample('cam-2', 10 + i, { label: 0 })),
    ]);
    const r = await buildFieldDataset(world, { parent: 'toy', holdoutFraction: 0.5, minDevicesPerLabel: 2 });
    expect(r.fieldRows + r.holdout.n).toBe(6);
    expect(r.version.source).toContain('left out (fewer than 2 devices)');
    const open = await buildFieldDataset(world, { parent: 'toy', holdoutFraction: 0.5 });
    expect(open.fieldRows + open.holdout.n).toBe(46);
  });

  it('is deterministic: the same samples, inserted in any order, give the same digest', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => sample(i % 2 ? 'cam-1' : 'cam-2', i, { snowy: i % 3 === 0 }));
    await world.samples.insertMany(rows);
    const a = await buildFieldDataset(world, { parent: 'toy' });
    const other = await openWorld();
    try {
      await other.samples.insertMany([...rows].reverse());
      const b = await buildFieldDataset(other, { parent: 'toy' });
      expect(b.version.digest).toBe(a.version.digest);
      expect(Array.from(b.holdout.x)).toEqual(Array.from(a.holdout.x));
    } finally {
      await other.close();
    }
    expect((await buildFieldDataset(world, { parent: 'toy' })).version.digest).toBe(a.version.digest);
  });

  it("groups field rows by their devices' cohorts after the parent rows, and records where each group lies", async () => {
    // Interleaved in time: snowy cars and sunny phones; a device in two cohorts forms its own group.
    await world.samples.insertMany([
      ...Array.from({ length: 6 }, (_, i) =>
        sample(i % 2 ? 'car-1' : 'phone-1', i, { snowy: i % 2 === 1, cohorts: i % 2 ? ['car'] : ['phone'] }),
      ),
      ...Array.from({ length: 2 }, (_, i) => sample('both-1', 20 + i, { cohorts: ['phone', 'car'] })),
    ]);
    const r = await buildFieldDataset(world, { parent: 'toy', holdoutFraction: 0 });
    expect(r.version.report).toEqual({
      kind: 'field',
      parentRows: 90,
      groups: [
        { cohorts: ['car'], start: 90, count: 3 },
        { cohorts: ['car', 'phone'], start: 93, count: 2 },
        { cohorts: ['phone'], start: 95, count: 3 },
      ],
    });
    expect(isFieldProvenance(r.version.report)).toBe(true);
    // Built after a drift that began at second 3 (the newest sample held out, so this is another version):
    // each group counts its rows since then, its last ones.
    const drift = await buildFieldDataset(world, {
      parent: 'toy',
      holdoutFraction: 0.1,
      recentSince: new Date(Date.UTC(2026, 0, 1, 0, 0, 3)).toISOString(),
    });
    expect((drift.version.report as { groups: { count: number; recent?: number }[] }).groups.map((g) => [g.count, g.recent])).toEqual([
      [3, 2],
      [1, 1],
      [3, 1],
    ]);
    // The car group holds exactly the car device's (snowy) inputs.
    const stored = decodeDataset((await world.blobs.get(r.version.digest))!).data;
    const per = stored.x.length / stored.n;
    const cars = (await world.samples.labelled({ cohort: 'car', limit: 100 }))
      .filter((x) => x.deviceId === 'car-1')
      .sort((a, b) => a.at.localeCompare(b.at));
    for (let i = 0; i < 3; i++)
      expect(Array.from(stored.x.subarray((90 + i) * per, (91 + i) * per))).toEqual(
        Array.from(new Float32Array(cars[i]!.input.slice().buffer)),
      );
  });

  it('takes only the named cohorts and only labelled samples', async () => {
    await world.samples.insertMany([
      ...Array.from({ length: 4 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })),
      ...Array.from({ length: 6 }, (_, i) => sample('cam-2', i, { cohorts: ['sunny'] })),
      sample('cam-3', 0, { cohorts: ['snowy'], label: null }),
    ]);
    const r = await buildFieldDataset(world, { parent: 'toy', cohorts: ['snowy'], holdoutFraction: 0.25 });
    expect(r.fieldRows + r.holdout.n).toBe(4);
    expect(r.version.source).toContain('cohorts snowy');
  });
});
