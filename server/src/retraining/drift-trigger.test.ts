// The drift trigger's `samplesAfterAlert`: a raised alert starts the retrain only once enough labelled samples
// from the policy's cohorts arrived since the drift began (real SQLite sample store; the retrain itself is not run).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import type { Alert } from '../monitoring/alert.ts';
import { RetrainingService } from './retraining-service.ts';
import { openWorld, sample } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let rt: RetrainingService;

beforeEach(async () => {
  world = await openWorld();
  // No champion: a started job fails at once (NO_CHAMPION), which is enough to see what started it and when.
  rt = new RetrainingService({
    store: world.store,
    blobs: world.blobs,
    samples: world.samples,
    runs: {} as never,
    conversion: {} as never,
    retrainingStore: world.retraining,
    log: createLogger('silent'),
  });
});
afterEach(async () => {
  await rt.close();
  await world.close();
});

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

const alert = { id: 'a1', model: 'toy@1', cohort: 'snowy', since: new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toISOString() } as Alert;

describe('drift trigger with samplesAfterAlert', () => {
  it('waits for that many labelled samples from the policy cohorts since the drift began, then starts one retrain', async () => {
    await rt.setPolicy('toy', { trigger: { onDriftAlert: true, samplesAfterAlert: 3 }, data: { parent: 'toy', cohorts: ['snowy'] } });
    // Before the drift, another cohort, and unlabelled: none of these count.
    await world.samples.insertMany([
      ...Array.from({ length: 5 }, (_, i) => sample('cam-1', i, { snowy: true, cohorts: ['snowy'] })),
      ...Array.from({ length: 5 }, (_, i) => sample('cam-2', 20 + i, { cohorts: ['clear'] })),
      sample('cam-1', 30, { snowy: true, cohorts: ['snowy'], label: null }),
      sample('cam-1', 10, { snowy: true, cohorts: ['snowy'] }),
      sample('cam-1', 11, { snowy: true, cohorts: ['snowy'] }),
    ]);
    rt.onAlert({ type: 'raised', alert });
    rt.onAlert({ type: 'raised', alert: { ...alert, id: 'a2' } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rt.list({ model: 'toy' })).toEqual([]);
    await world.samples.insertMany([sample('cam-1', 12, { snowy: true, cohorts: ['snowy'] })]);
    const [job] = await until(
      () => rt.list({ model: 'toy' }),
      (jobs) => jobs.length > 0,
      5000,
      'the drift retrain',
    );
    expect(job!.trigger).toBe('drift:a1');
    expect((await rt.wait(job!.id)).error).toContain('NO_CHAMPION');
    await new Promise((r) => setTimeout(r, 1200));
    expect(await rt.list({ model: 'toy' })).toHaveLength(1);
  });

  it('counts the alert cohort when the policy names none, and 0 starts at once', async () => {
    await rt.setPolicy('toy', { trigger: { onDriftAlert: true, samplesAfterAlert: 1 }, data: { parent: 'toy' } });
    await world.samples.insertMany([sample('cam-1', 15, { snowy: true, cohorts: ['snowy'] })]);
    rt.onAlert({ type: 'raised', alert });
    await until(
      () => rt.list({ model: 'toy' }),
      (jobs) => jobs.length === 1,
      5000,
      'the drift retrain',
    );
    await rt.setPolicy('other', { trigger: { onDriftAlert: true }, data: { parent: 'toy' } });
    rt.onAlert({ type: 'raised', alert: { ...alert, id: 'a3', model: 'other@1' } });
    const other = await until(
      () => rt.list({ model: 'other' }),
      (jobs) => jobs.length > 0,
      5000,
      'the retrain of other',
    );
    expect(other.map((j) => j.trigger)).toEqual(['drift:a3']);
  });
});
