// Retrain jobs and policies kept in the real SQLite RetrainingStore: a job running when its server stops reads
// `interrupted` with the reason after a restart (a clean stop or a crash), job history outlives the process,
// and hostile policies (too deep, too large, named like Object's own properties) are refused or kept as names.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { INTERRUPTED_BY_STOP, RetrainingService } from './retraining-service.ts';
import { MAX_POLICY_BYTES } from './retraining-policy.ts';
import { openWorld } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
const services: RetrainingService[] = [];

/** A service whose retrains never get past looking up the champion: they stay `running` until the process stops. */
function service(o: { soleProcess?: boolean } = {}) {
  const stuck = { ...world.store, models: { resolve: () => new Promise(() => undefined) } } as never;
  const rt = new RetrainingService({
    store: stuck,
    blobs: world.blobs,
    samples: world.samples,
    runs: {} as never,
    conversion: {} as never,
    retrainingStore: world.retraining,
    log: createLogger('silent'),
    soleProcess: o.soleProcess ?? true,
  });
  services.push(rt);
  return rt;
}

beforeEach(async () => {
  world = await openWorld();
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  await world.close();
});

describe('retrain jobs in the store', () => {
  it('a job running at a crash reads interrupted after the restart, with the reason, in the job list', async () => {
    const before = service();
    await before.setPolicy('toy', { trigger: {}, data: { parent: 'toy' } });
    const job = await before.start('toy', 'tok_1');
    expect(job.status).toBe('running');
    // The same model is busy: another start hands back that job.
    expect((await before.start('toy', 'tok_2')).id).toBe(job.id);
    // A crash: the process is gone without close(). The next process recovers at start.
    services.splice(0);
    const after = service();
    const found = await after.recover();
    expect(found.map((j) => j.id)).toEqual([job.id]);
    const [listed] = await after.list({ model: 'toy' });
    expect(listed).toMatchObject({ id: job.id, status: 'interrupted', error: INTERRUPTED_BY_STOP, trigger: 'manual', actor: 'tok_1' });
    expect(listed!.endedAt).not.toBeNull();
    expect(await after.get(job.id)).toEqual(listed);
    // The model is free again.
    const next = await after.start('toy', 'tok_1');
    expect(next.id).not.toBe(job.id);
    expect((await after.list({ status: 'running' })).map((j) => j.id)).toEqual([next.id]);
  });

  it('a clean stop records its running jobs as interrupted at once; history is read after the restart', async () => {
    const a = service();
    await a.setPolicy('toy', { trigger: {}, data: { parent: 'toy' } });
    await a.setPolicy('other', { trigger: {}, data: { parent: 'toy' } });
    const j1 = await a.start('toy', 'op');
    const j2 = await a.start('other', 'op', 'schedule');
    await a.close();
    const b = service();
    expect(await b.recover()).toEqual([]);
    expect((await b.list()).map((j) => [j.id, j.status, j.trigger])).toEqual([
      [j2.id, 'interrupted', 'schedule'],
      [j1.id, 'interrupted', 'manual'],
    ]);
    expect((await b.get(j1.id)).error).toBe(INTERRUPTED_BY_STOP);
  });

  it('refuses a policy nested too deep or too large with a reason, and later writes still work', async () => {
    const rt = service();
    let hyper: unknown = 1;
    for (let i = 0; i < 200_000; i++) hyper = [hyper];
    await expect(
      rt.setPolicy('deep', { trigger: {}, data: { parent: 'p' }, train: { hyper: { x: hyper } } } as never),
    ).rejects.toMatchObject({ code: 'INVALID_RETRAINING_POLICY', message: expect.stringContaining('nested deeper than 32 levels') });
    await expect(
      rt.setPolicy('wide', { trigger: {}, data: { parent: 'p' }, train: { hyper: { x: 'x'.repeat(MAX_POLICY_BYTES) } } }),
    ).rejects.toMatchObject({ code: 'INVALID_RETRAINING_POLICY', message: expect.stringContaining('-byte limit') });
    await expect(rt.policy('deep')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await rt.setPolicy('fine', { trigger: {}, data: { parent: 'p' }, train: { hyper: { nested: { ok: [1, 2, 3] } } } });
    expect((await rt.policy('fine')).train.hyper).toEqual({ nested: { ok: [1, 2, 3] } });
  });

  it('keeps models named __proto__, constructor or toString as plain names', async () => {
    const rt = service();
    await expect(rt.policy('constructor')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(rt.policy('toString')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await rt.setPolicy('__proto__', { trigger: { minLabelledSamples: 5 }, data: { parent: 'p' } });
    expect((await rt.policy('__proto__')).trigger.minLabelledSamples).toBe(5);
    await expect(rt.policy('constructor')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const job = await rt.start('__proto__', 'op');
    expect((await rt.list({ model: '__proto__' })).map((j) => j.id)).toEqual([job.id]);
    // The trigger check reads every policy: a `__proto__` model is one of them, nothing more.
    expect(await rt.checkTriggers()).toEqual([]);
  });
});
