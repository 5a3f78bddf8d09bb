// The RetrainingStore contract: every engine runs these cases (store/sqlite/ and store/postgres/).
import { describe, expect, it } from 'vitest';
import { startedJob, type RetrainJob } from './retrain-job.ts';
import { RetrainingPolicy } from './retraining-policy.ts';
import type { JobLease, RetrainingStore } from './retraining-store.ts';

/** A running job of `model` started at second `i` of 2026. */
export function contractJob(id: string, model: string, i = 0, over: Partial<RetrainJob> = {}): RetrainJob {
  return {
    ...startedJob({ id, model, trigger: 'manual', actor: 'tok_1', startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
    ...over,
  };
}

const T = Date.UTC(2026, 0, 1);
/** A lease held by `holder` from `now` for a minute. */
export const contractLease = (holder = 'h1', now = T, ttl = 60_000): JobLease => ({
  holder,
  now,
  leaseUntil: now + ttl,
  expiredReason: 'lease ran out',
});

const policy = (parent: string, over: Record<string, unknown> = {}) => RetrainingPolicy.parse({ trigger: {}, data: { parent }, ...over });

/** Runs the contract against a fresh store from `open` for every case; `close` releases it. */
export function retrainingStoreContract(name: string, open: () => Promise<{ store: RetrainingStore; close(): Promise<void> }>): void {
  describe(`RetrainingStore contract: ${name}`, () => {
    const withStore = (fn: (s: RetrainingStore) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h.store);
      } finally {
        await h.close();
      }
    };

    it(
      'stores, replaces and lists policies by model name',
      withStore(async (s) => {
        expect(await s.getPolicy('digits')).toBeNull();
        await s.putPolicy('digits', policy('mnist'));
        await s.putPolicy(
          'speech',
          policy('speech-v1', { after: 'canary', trainer: { kind: 'command', command: ['python3', 'train.py'] } }),
        );
        await s.putPolicy(
          'digits',
          policy('mnist-2', { data: { parent: 'mnist-2', sources: ['app', 'operator'], minDevicesPerLabel: 3 } }),
        );
        expect(await s.getPolicy('digits')).toEqual(
          policy('mnist-2', { data: { parent: 'mnist-2', sources: ['app', 'operator'], minDevicesPerLabel: 3 } }),
        );
        expect((await s.getPolicy('speech'))?.trainer).toEqual({
          kind: 'command',
          command: ['python3', 'train.py'],
          timeoutSec: 3600,
          quantize: 'int8',
        });
        expect((await s.listPolicies()).map(([m, p]) => [m, p.data.parent])).toEqual([
          ['digits', 'mnist-2'],
          ['speech', 'speech-v1'],
        ]);
      }),
    );

    it(
      'keeps models named __proto__, constructor or toString as plain names',
      withStore(async (s) => {
        expect(await s.getPolicy('constructor')).toBeNull();
        expect(await s.getPolicy('toString')).toBeNull();
        expect(await s.getPolicy('__proto__')).toBeNull();
        await s.putPolicy('__proto__', policy('p'));
        await s.putPolicy('constructor', policy('c'));
        await s.putPolicy('other', policy('o'));
        expect((await s.getPolicy('__proto__'))?.data.parent).toBe('p');
        expect((await s.getPolicy('constructor'))?.data.parent).toBe('c');
        expect(await s.getPolicy('toString')).toBeNull();
        const all = await s.listPolicies();
        expect(all.map(([m]) => m)).toEqual(['__proto__', 'constructor', 'other']);
        // Nothing leaked onto shared prototypes.
        expect(({} as Record<string, unknown>).data).toBeUndefined();
      }),
    );

    it(
      'starts one running job per model: a second start gets the running one back',
      withStore(async (s) => {
        const a = await s.startJob(contractJob('rt_a', 'digits'), contractLease());
        expect(a).toEqual({ job: contractJob('rt_a', 'digits'), started: true });
        const again = await s.startJob(contractJob('rt_b', 'digits', 1), contractLease('h2', T + 1000));
        expect(again).toEqual({ job: contractJob('rt_a', 'digits'), started: false });
        expect((await s.startJob(contractJob('rt_c', 'speech', 2), contractLease('h2', T + 2000))).started).toBe(true);
        expect(await s.getJob('rt_b')).toBeNull();
        // Once it ended, the model may retrain again.
        await s.saveJob(contractJob('rt_a', 'digits', 0, { status: 'refused', endedAt: new Date(T + 3000).toISOString() }));
        expect((await s.startJob(contractJob('rt_d', 'digits', 4), contractLease('h2', T + 4000))).started).toBe(true);
        expect((await s.listJobs({ model: 'digits' })).map((j) => [j.id, j.status])).toEqual([
          ['rt_d', 'running'],
          ['rt_a', 'refused'],
        ]);
      }),
    );

    it(
      'saves progress and the end of a job exactly, and lists newest first with filters',
      withStore(async (s) => {
        await s.startJob(contractJob('rt_1', 'digits'), contractLease());
        const progressed = contractJob('rt_1', 'digits', 0, {
          dataset: { digest: 'ab'.repeat(32), name: 'mnist-field', parents: ['cd'.repeat(32)], fieldRows: 12, holdoutRows: 3 },
          champion: 'digits@1',
          runId: 'run_1',
        });
        await s.saveJob(progressed, T + 120_000);
        expect(await s.getJob('rt_1')).toEqual(progressed);
        const ended = {
          ...progressed,
          status: 'failed' as const,
          endedAt: new Date(T + 5000).toISOString(),
          error: 'TRAINER_FAILED: exit 3: "bad\u0000byte" ünïcode',
        };
        await s.saveJob(ended);
        expect(await s.getJob('rt_1')).toEqual(ended);
        for (let i = 2; i <= 4; i++) {
          const job = contractJob(`rt_${i}`, i % 2 ? 'speech' : 'digits', i);
          expect((await s.startJob(job, contractLease())).started).toBe(true);
          if (i < 4) await s.saveJob({ ...job, status: 'blessed', endedAt: job.startedAt });
        }
        expect((await s.listJobs()).map((j) => j.id)).toEqual(['rt_4', 'rt_3', 'rt_2', 'rt_1']);
        expect((await s.listJobs({ model: 'digits' })).map((j) => j.id)).toEqual(['rt_4', 'rt_2', 'rt_1']);
        expect((await s.listJobs({ status: 'failed' })).map((j) => j.id)).toEqual(['rt_1']);
        expect((await s.listJobs({ status: 'running' })).map((j) => j.id)).toEqual(['rt_4']);
        expect((await s.listJobs({ limit: 2 })).map((j) => j.id)).toEqual(['rt_4', 'rt_3']);
        expect(await s.listJobs({ model: '__proto__' })).toEqual([]);
      }),
    );

    it(
      'marks running jobs interrupted with the reason: those whose lease ran out, or all',
      withStore(async (s) => {
        await s.startJob(contractJob('rt_old', 'a'), contractLease('h1', T, 10_000));
        await s.startJob(contractJob('rt_live', 'b'), contractLease('h2', T, 60_000));
        await s.startJob(contractJob('rt_done', 'c'), contractLease('h2', T, 1));
        await s.saveJob(contractJob('rt_done', 'c', 0, { status: 'blessed', endedAt: new Date(T).toISOString() }));
        const at = new Date(T + 30_000).toISOString();
        const out = await s.interruptRunning({ leaseBefore: T + 30_000, reason: 'interrupted: stopped', at });
        expect(out).toEqual([contractJob('rt_old', 'a', 0, { status: 'interrupted', endedAt: at, error: 'interrupted: stopped' })]);
        expect(await s.getJob('rt_old')).toEqual(out[0]);
        expect((await s.getJob('rt_live'))?.status).toBe('running');
        expect((await s.interruptRunning({ leaseBefore: Infinity, reason: 'restart', at })).map((j) => j.id)).toEqual(['rt_live']);
        expect((await s.getJob('rt_done'))?.status).toBe('blessed');
        expect(await s.interruptRunning({ leaseBefore: Infinity, reason: 'restart', at })).toEqual([]);
      }),
    );

    it(
      'a running snapshot never revives an interrupted job; its end still lands',
      withStore(async (s) => {
        await s.startJob(contractJob('rt_1', 'digits'), contractLease('h1', T, 1000));
        await s.interruptRunning({ leaseBefore: T + 2000, reason: 'lease ran out', at: new Date(T + 2000).toISOString() });
        await s.saveJob(contractJob('rt_1', 'digits', 0, { runId: 'run_late' }), T + 60_000);
        expect(await s.getJob('rt_1')).toMatchObject({ status: 'interrupted', runId: null });
        // The model is free: a new job starts, and the old job's late end lands without clashing with it.
        expect((await s.startJob(contractJob('rt_2', 'digits'), contractLease('h2', T + 3000))).started).toBe(true);
        await s.saveJob(contractJob('rt_1', 'digits', 0, { status: 'refused', endedAt: new Date(T + 4000).toISOString() }));
        expect((await s.getJob('rt_1'))?.status).toBe('refused');
        expect((await s.getJob('rt_2'))?.status).toBe('running');
      }),
    );

    it(
      'a start finding a running job whose lease ran out interrupts it and starts anew',
      withStore(async (s) => {
        await s.startJob(contractJob('rt_dead', 'digits'), contractLease('h1', T, 10_000));
        const got = await s.startJob(contractJob('rt_new', 'digits', 20), contractLease('h2', T + 20_000));
        expect(got.started).toBe(true);
        expect(await s.getJob('rt_dead')).toMatchObject({
          status: 'interrupted',
          error: 'lease ran out',
          endedAt: new Date(T + 20_000).toISOString(),
        });
        expect((await s.listJobs({ status: 'running' })).map((j) => j.id)).toEqual(['rt_new']);
      }),
    );
  });
}
