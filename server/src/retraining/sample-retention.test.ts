// The retention sweeper against a real SQLite field-sample store: old samples go, then the oldest beyond the byte budget.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openWorld } from '@flotilla/test/support/retraining-test-kit';
import { createLogger } from '../log/logger.ts';
import { contractSample } from './field-sample-store-contract.ts';
import { retentionFromEnv, SampleRetention } from './sample-retention.ts';

let world: Awaited<ReturnType<typeof openWorld>>;
beforeEach(async () => {
  world = await openWorld();
});
afterEach(async () => world.close());

it('deletes what is older than the retention age, then the oldest beyond the byte budget', async () => {
  await world.samples.insertMany(Array.from({ length: 10 }, (_, i) => contractSample('cam-1', i)));
  let clock = Date.now();
  const sweeper = new SampleRetention({
    samples: world.samples,
    limits: { maxAgeMs: 60_000, maxBytes: 12 * 4 },
    log: createLogger('silent'),
    now: () => clock,
  });
  expect(await sweeper.sweep()).toBe(6); // 12-byte inputs: four fit the budget
  expect(await world.samples.countLabelled({})).toBe(4);
  clock += 61_000;
  expect(await sweeper.sweep()).toBe(4);
  expect(await world.samples.countLabelled({})).toBe(0);
});

it('reads its limits from the environment, with defaults', () => {
  expect(retentionFromEnv({})).toEqual({ maxAgeMs: 30 * 86_400_000, maxBytes: 2 * 1024 ** 3 });
  expect(retentionFromEnv({ FLOTILLA_SAMPLE_RETENTION_DAYS: '2', FLOTILLA_SAMPLE_RETENTION_BYTES: '1000' })).toEqual({
    maxAgeMs: 2 * 86_400_000,
    maxBytes: 1000,
  });
});
