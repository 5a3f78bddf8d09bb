// The RolloutStore contract: every implementation runs these cases (see store/sqlite/ and store/postgres/).
import { describe, expect, it } from 'vitest';
import { freshEach } from '../contract-suites/fresh-each.ts';
import { claims, type RolloutStore } from './rollout-store.ts';
import type { Rollout, RolloutDevice } from './rollout-types.ts';
import { pendingStage } from './rollout-step.ts';
import { parseRolloutRequest } from './rollout-spec.ts';

const AT = '2026-03-01T00:00:00.000Z';

export const sampleRollout = (id: string, over: Partial<Rollout> = {}): Rollout => {
  const spec = parseRolloutRequest({ model: 'm@1', target: { tags: ['car'] }, stages: [{ percent: 10 }, { percent: 100 }] });
  return {
    id,
    state: 'running',
    model: 'digits',
    target: spec.target,
    stages: spec.stages,
    policy: spec.policy,
    bundle: { id: 'a'.repeat(64), model: 'digits', version: '1.0.0', sequence: 1, manifestDigest: 'b'.repeat(64), bytes: 10 },
    current: 0,
    runtime: spec.stages.map(pendingStage),
    reason: 'why',
    createdBy: 'tok',
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
};

const device = (
  rolloutId: string,
  deviceId: string,
  stage: number | null,
  hash: number,
  over: Partial<RolloutDevice> = {},
): RolloutDevice => ({
  rolloutId,
  deviceId,
  stage,
  hash,
  state: stage === null ? 'excluded' : 'planned',
  previousBundleId: null,
  notifiedAt: null,
  updatedAt: AT,
  ...over,
});

/** Runs the contract against a fresh store from `open` for every case; `close` releases it. */
export function rolloutStoreContract(name: string, open: () => Promise<{ store: RolloutStore; close(): Promise<void> }>): void {
  describe(`RolloutStore contract: ${name}`, () => {
    const withStore = freshEach(open, (h) => h.store);

    it(
      'writes a rollout, its devices and events together, and reads them back as written',
      withStore(async (s) => {
        const r = sampleRollout('ro_1');
        await s.write({
          rollout: r,
          addDevices: [device('ro_1', 'b', 1, 0.7), device('ro_1', 'a', 0, 0.2), device('ro_1', 'c', null, 0.9)].map((d) => ({
            device: d,
            entry: { at: AT, kind: 'planned', state: d.state },
          })),
          events: [
            { rolloutId: 'ro_1', at: AT, actor: 'tok', kind: 'created', from: null, to: null, stage: 0, reason: 'why', detail: { n: 3 } },
          ],
        });
        expect(await s.get('ro_1')).toEqual(r);
        expect(await s.get('nope')).toBeNull();
        expect((await s.devices('ro_1')).map((d) => d.deviceId)).toEqual(['a', 'b', 'c']);
        expect((await s.devices('ro_1', { stage: 1 })).map((d) => d.deviceId)).toEqual(['b']);
        expect((await s.devices('ro_1', { states: ['excluded'] })).map((d) => d.deviceId)).toEqual(['c']);
        expect((await s.events('ro_1')).map((e) => [e.kind, e.actor, e.detail])).toEqual([['created', 'tok', { n: 3 }]]);
      }),
    );

    it(
      'updates state and runtime in place; the spec never changes',
      withStore(async (s) => {
        const r = sampleRollout('ro_1');
        await s.write({ rollout: r });
        r.runtime[0] = { ...r.runtime[0]!, state: 'active', activatedAt: AT, notifiedInWindow: 3 };
        await s.write({ rollout: { ...r, state: 'paused', current: 0, updatedAt: '2026-03-02T00:00:00.000Z', reason: 'ignored' } });
        const got = (await s.get('ro_1'))!;
        expect([got.state, got.runtime[0]!.state, got.runtime[0]!.notifiedInWindow, got.updatedAt, got.reason]).toEqual([
          'paused',
          'active',
          3,
          '2026-03-02T00:00:00.000Z',
          'why',
        ]);
      }),
    );

    it(
      'device changes append to a bounded timeline and keep unspecified fields',
      withStore(async (s) => {
        await s.write({
          rollout: sampleRollout('ro_1'),
          addDevices: [{ device: device('ro_1', 'a', 0, 0.1), entry: { at: AT, kind: 'planned', state: 'planned' } }],
        });
        await s.write({
          changes: [
            {
              rolloutId: 'ro_1',
              deviceId: 'a',
              state: 'notified',
              previousBundleId: 'p'.repeat(64),
              notifiedAt: AT,
              entry: { at: AT, kind: 'notified', state: 'notified' },
            },
          ],
        });
        await s.write({
          changes: [
            {
              rolloutId: 'ro_1',
              deviceId: 'a',
              state: 'updated',
              entry: { at: AT, kind: 'status', state: 'updated', detail: { to: 'idle' } },
            },
          ],
        });
        const d = (await s.device('ro_1', 'a'))!;
        expect([d.state, d.previousBundleId, d.notifiedAt]).toEqual(['updated', 'p'.repeat(64), AT]);
        expect(d.timeline.map((e) => e.kind)).toEqual(['planned', 'notified', 'status']);
        for (let i = 0; i < 250; i++)
          await s.write({
            changes: [{ rolloutId: 'ro_1', deviceId: 'a', state: 'updated', entry: { at: AT, kind: `s${i}`, state: 'updated' } }],
          });
        const long = (await s.device('ro_1', 'a'))!.timeline;
        expect([long.length, long[0]!.kind, long.at(-1)!.kind]).toEqual([200, 's50', 's249']);
        expect(await s.device('ro_1', 'zz')).toBeNull();
      }),
    );

    it(
      'a failing write changes nothing',
      withStore(async (s) => {
        await s.write({ rollout: sampleRollout('ro_1') });
        const dup = { device: device('ro_1', 'a', 0, 0.1), entry: { at: AT, kind: 'planned', state: 'planned' as const } };
        await expect(s.write({ rollout: sampleRollout('ro_1', { state: 'paused' }), addDevices: [dup, dup] })).rejects.toThrow();
        expect([(await s.get('ro_1'))!.state, (await s.devices('ro_1')).length]).toEqual(['running', 0]);
      }),
    );

    it(
      'holders: members of active rollouts of the model only',
      withStore(async (s) => {
        const add = (rid: string, ids: [string, number | null, RolloutDevice['state']?][]) =>
          ids.map(([id, stage, state]) => ({
            device: device(rid, id, stage, 0.5, state ? { state } : {}),
            entry: { at: AT, kind: 'planned', state: 'planned' as const },
          }));
        await s.write({
          rollout: sampleRollout('ro_run'),
          addDevices: add('ro_run', [
            ['a', 0],
            ['b', null],
            ['c', 1, 'superseded'],
          ]),
        });
        await s.write({ rollout: sampleRollout('ro_done', { state: 'completed' }), addDevices: add('ro_done', [['d', 0]]) });
        await s.write({ rollout: sampleRollout('ro_other', { model: 'other' }), addDevices: add('ro_other', [['e', 0]]) });
        await s.write({ rollout: sampleRollout('ro_draft', { state: 'draft' }), addDevices: add('ro_draft', [['f', 0]]) });
        expect(await s.holders('digits', ['a', 'b', 'c', 'd', 'e', 'f', 'zz'])).toEqual([
          { deviceId: 'a', rolloutId: 'ro_run' },
          { deviceId: 'f', rolloutId: 'ro_draft' },
        ]);
        expect(await s.holders('digits', ['a'], 'ro_run')).toEqual([]);
        expect(await s.holders('digits', [])).toEqual([]);
        expect((await s.memberships('a')).map((m) => [m.rolloutId, m.rolloutState, m.model, m.bundleId])).toEqual([
          ['ro_run', 'running', 'digits', 'a'.repeat(64)],
        ]);
      }),
    );

    it(
      'claimant: the newest row that takes a status naming the bundle, as memberships() with claims() would find it',
      withStore(async (s) => {
        const A = 'a'.repeat(64);
        const B = 'b'.repeat(64);
        const rows: [string, string, RolloutDevice['state'], string | null][] = [
          // rollout, its bundle, the device's state there, the device's previous bundle
          ['ro_1', A, 'updated', null],
          ['ro_2', B, 'rollback_pending', A],
          ['ro_3', A, 'superseded', B],
          ['ro_4', B, 'notified', A],
          ['ro_5', A, 'planned', B],
          ['ro_6', B, 'excluded', null],
        ];
        for (const [i, [rid, bundle, state, prev]] of rows.entries()) {
          await s.write({
            rollout: sampleRollout(rid, {
              bundle: { ...sampleRollout(rid).bundle, id: bundle },
              createdAt: `2026-01-0${i + 1}T00:00:00.000Z`,
            }),
            addDevices: [
              { device: device(rid, 'x', 0, 0.5, { state, previousBundleId: prev }), entry: { at: AT, kind: 'planned', state } },
            ],
          });
        }
        const viaRule = async (bundle: string | null) => (await s.memberships('x')).find((m) => claims(m, bundle)) ?? null;
        for (const bundle of [A, B, null, 'c'.repeat(64)]) {
          expect(await s.claimant('x', bundle)).toEqual(await viaRule(bundle));
        }
        // A: ro_4 is on B and ro_3 let the device go, so the rollback to A in ro_2; B: the told device in ro_4.
        expect((await s.claimant('x', A))?.rolloutId).toBe('ro_2');
        expect((await s.claimant('x', B))?.rolloutId).toBe('ro_4');
        expect(await s.claimant('x', 'c'.repeat(64))).toBeNull();
        expect(await s.claimant('nobody', A)).toBeNull();
        // Rolled back to no model at all: the status names no bundle.
        await s.write({
          changes: [
            { rolloutId: 'ro_4', deviceId: 'x', state: 'rollback_pending', entry: { at: AT, kind: 'rollback', state: 'rollback_pending' } },
          ],
        });
        await s.write({
          rollout: sampleRollout('ro_7', { createdAt: '2026-01-09T00:00:00.000Z' }),
          addDevices: [
            {
              device: device('ro_7', 'x', 0, 0.5, { state: 'rolled_back', previousBundleId: null }),
              entry: { at: AT, kind: 'planned', state: 'rolled_back' },
            },
          ],
        });
        expect((await s.claimant('x', null))?.rolloutId).toBe('ro_7');
        expect((await s.claimant('x', A))?.rolloutId).toBe('ro_4');
        expect(await s.claimant('x', B)).toEqual(await viaRule(B));
      }),
    );

    it(
      'lists newest first, by state and model; counts by stage and state',
      withStore(async (s) => {
        await s.write({ rollout: sampleRollout('ro_a', { createdAt: '2026-01-01T00:00:00.000Z' }) });
        await s.write({ rollout: sampleRollout('ro_b', { createdAt: '2026-01-02T00:00:00.000Z', state: 'completed' }) });
        await s.write({ rollout: sampleRollout('ro_c', { createdAt: '2026-01-03T00:00:00.000Z', model: 'other' }) });
        expect((await s.list()).map((r) => r.id)).toEqual(['ro_c', 'ro_b', 'ro_a']);
        expect((await s.list({ states: ['running'] })).map((r) => r.id)).toEqual(['ro_c', 'ro_a']);
        expect((await s.list({ model: 'digits', limit: 1 })).map((r) => r.id)).toEqual(['ro_b']);
        await s.write({
          addDevices: [
            device('ro_a', 'a', 0, 0.1),
            device('ro_a', 'b', 0, 0.2, { state: 'failed' }),
            device('ro_a', 'c', 1, 0.3),
            device('ro_a', 'd', null, 0.9),
          ].map((d) => ({ device: d, entry: { at: AT, kind: 'planned', state: d.state } })),
        });
        expect(await s.counts('ro_a')).toEqual([
          { stage: 0, state: 'failed', count: 1 },
          { stage: 0, state: 'planned', count: 1 },
          { stage: 1, state: 'planned', count: 1 },
          { stage: null, state: 'excluded', count: 1 },
        ]);
      }),
    );
  });
}
