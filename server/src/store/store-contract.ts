// The Store contract suite: every Store implementation runs these same cases (see sqlite-store.test.ts).
import { describe, expect, it } from 'vitest';
import { freshEach } from '../contract-suites/fresh-each.ts';
import { queuedRun, type Run } from './entities.ts';
import type { Store } from './store.ts';

const run = (id: string, over: Partial<Run> = {}): Run => ({
  ...queuedRun({
    id,
    model: 'm',
    sweepId: null,
    datasetDigest: 'd'.repeat(64),
    datasetName: 'ds',
    splitSeed: 1,
    spec: { layers: [] },
    hyper: { epochs: 1 },
    environment: { code: { commit: 'abc', dirty: false } },
    createdBy: 'tester',
  }),
  ...over,
});

/** Runs the contract against a fresh store from `open` for every case. */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    const withStore = freshEach(open, (s) => s);

    it(
      'tokens: found by hash until revoked',
      withStore(async (s) => {
        await s.tokens.create({ id: 't1', name: 'ci', role: 'operator', hash: 'h1' });
        expect((await s.tokens.findByHash('h1'))?.role).toBe('operator');
        expect(await s.tokens.findByHash('nope')).toBeNull();
        expect(await s.tokens.revoke('t1')).toBe(true);
        expect(await s.tokens.revoke('t1')).toBe(false);
        expect(await s.tokens.findByHash('h1')).toBeNull();
        expect(await s.tokens.count()).toBe(1);
      }),
    );

    it(
      'datasets: idempotent by name and digest, resolved by name, name@digest and digest prefix',
      withStore(async (s) => {
        const base = {
          name: 'iris',
          bytes: 10,
          rows: 3,
          featureShape: [4],
          featureNames: ['a', 'b', 'c', 'd'],
          classes: ['x', 'y'],
          report: { rowsRead: 3 },
          parents: [],
          source: 'csv',
        };
        await s.datasets.put({ ...base, digest: 'a'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z' });
        await s.datasets.put({ ...base, digest: 'a'.repeat(64), createdAt: '2026-01-03T00:00:00.000Z' });
        await s.datasets.put({ ...base, digest: 'b'.repeat(64), createdAt: '2026-01-02T00:00:00.000Z' });
        expect((await s.datasets.list()).length).toBe(2);
        expect((await s.datasets.resolve('iris'))?.digest).toBe('b'.repeat(64));
        expect((await s.datasets.resolve('iris@aaaaaaaa'))?.digest).toBe('a'.repeat(64));
        expect((await s.datasets.resolve('bbbbbbbbbb'))?.name).toBe('iris');
        expect(await s.datasets.resolve('missing')).toBeNull();
        expect((await s.datasets.get('a'.repeat(64)))?.featureNames).toEqual(['a', 'b', 'c', 'd']);
      }),
    );

    it(
      'runs: status, history appended in order, unfinished listed',
      withStore(async (s) => {
        await s.runs.create(run('r1'));
        await s.runs.create(run('r2', { sweepId: 'sw' }));
        await s.runs.setStatus('r1', 'running', { startedAt: '2026-01-01T00:00:00.000Z' });
        for (let e = 0; e < 3; e++)
          await s.runs.appendEpoch('r1', {
            epoch: e,
            loss: 1 / (e + 1),
            accuracy: 0.5,
            valLoss: 1,
            valAccuracy: 0.5,
            durationMs: 10,
            samplesPerSec: 100,
          });
        await s.runs.finish('r1', { metrics: { accuracy: 0.97 }, artifacts: { 'model.json': 'x' } });
        await s.runs.setStatus('r1', 'succeeded', { endedAt: '2026-01-01T00:01:00.000Z' });
        const r1 = (await s.runs.get('r1'))!;
        expect(r1.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
        expect(r1.metrics).toEqual({ accuracy: 0.97 });
        expect(r1.startedAt).toBe('2026-01-01T00:00:00.000Z');
        expect(r1.environment).toEqual({ code: { commit: 'abc', dirty: false } });
        expect((await s.runs.listUnfinished()).map((r) => r.id)).toEqual(['r2']);
        expect((await s.runs.list({ sweepId: 'sw' })).map((r) => r.id)).toEqual(['r2']);
      }),
    );

    it(
      'models: versions count up per model; aliases move atomically with history',
      withStore(async (s) => {
        const v = {
          model: 'digits',
          runId: 'r1',
          format: 'tfjs' as const,
          artifacts: { a: '1' },
          signature: null,
          metrics: { accuracy: 0.9 },
          quantization: null,
          tags: [],
          description: '',
        };
        expect((await s.models.addVersion(v)).version).toBe(1);
        expect((await s.models.addVersion(v)).version).toBe(2);
        expect((await s.models.addVersion({ ...v, model: 'other' })).version).toBe(1);
        const m1 = await s.models.moveAlias({ model: 'digits', alias: 'champion', toVersion: 1, actor: 'a', reason: 'first' });
        expect(m1.fromVersion).toBeNull();
        const m2 = await s.models.moveAlias({ model: 'digits', alias: 'champion', toVersion: 2, actor: 'b', reason: 'better' });
        expect(m2.fromVersion).toBe(1);
        expect((await s.models.resolve('digits@champion'))?.version).toBe(2);
        expect((await s.models.resolve('digits'))?.version).toBe(2);
        expect((await s.models.resolve('digits@1'))?.aliases).toEqual([]);
        expect((await s.models.resolve('digits@2'))?.aliases).toEqual(['champion']);
        expect((await s.models.aliasHistory('digits')).map((h) => [h.fromVersion, h.toVersion, h.actor])).toEqual([
          [null, 1, 'a'],
          [1, 2, 'b'],
        ]);
        await s.models.setQuantization('digits', 2, { gate: 'passed' }, { 'model.int8.onnx': 'q' });
        const q = (await s.models.getVersion('digits', 2))!;
        expect(q.artifacts).toEqual({ a: '1', 'model.int8.onnx': 'q' });
        expect((await s.models.listModels()).find((m) => m.name === 'digits')).toEqual({
          name: 'digits',
          latestVersion: 2,
          aliases: { champion: 2 },
        });
      }),
    );

    it(
      'sweeps and audit',
      withStore(async (s) => {
        await s.sweeps.create({
          id: 'sw',
          status: 'running',
          model: 'm',
          config: {},
          runIds: [],
          createdAt: new Date().toISOString(),
          endedAt: null,
        });
        await s.sweeps.addRun('sw', 'r1');
        await s.sweeps.addRun('sw', 'r2');
        await s.sweeps.setStatus('sw', 'succeeded');
        const sw = (await s.sweeps.get('sw'))!;
        expect(sw.runIds).toEqual(['r1', 'r2']);
        expect(sw.endedAt).not.toBeNull();
        await s.audit.record({ actor: 'a', action: 'x', subject: 's1', detail: { n: 1 } });
        await s.audit.record({ actor: 'a', action: 'y', subject: 's2', detail: null });
        expect((await s.audit.list({ subject: 's1' })).map((r) => r.detail)).toEqual([{ n: 1 }]);
        expect((await s.audit.list()).map((r) => r.action)).toEqual(['y', 'x']);
      }),
    );
    it(
      'devices: created in batches atomically, credentials by hash, duplicate ids refused',
      withStore(async (s) => {
        const made = await s.devices.createMany([
          { id: 'car-1', tokenHash: 'h1', tags: ['car', 'eu', 'car'], groups: ['g1'] },
          { id: 'car-2', tokenHash: 'h2', tags: ['car'], attributes: { vin: 'x' } },
        ]);
        expect(made.map((d) => [d.id, d.tags, d.online, d.desiredRev])).toEqual([
          ['car-1', ['car', 'eu'], false, 0],
          ['car-2', ['car'], false, 0],
        ]);
        await expect(
          s.devices.createMany([
            { id: 'car-3', tokenHash: 'h3' },
            { id: 'car-1', tokenHash: 'hx' },
          ]),
        ).rejects.toMatchObject({ code: 'DEVICE_EXISTS' });
        expect(await s.devices.get('car-3')).toBeNull();
        expect(await s.devices.credential('car-1')).toEqual({
          tokenHash: 'h1',
          revoked: false,
          groups: ['g1'],
          generation: 0,
          previousHash: null,
          previousUntil: null,
          issuedAt: expect.any(String),
          publicKey: null,
        });
        expect(await s.devices.credential('nope')).toBeNull();
        expect(await s.devices.revoke('car-1')).toBe(true);
        expect(await s.devices.revoke('car-1')).toBe(false);
        expect((await s.devices.credential('car-1'))?.revoked).toBe(true);
        expect((await s.devices.list()).devices.map((d) => d.id)).toEqual(['car-2']);
        expect((await s.devices.list({ revoked: true })).devices.map((d) => d.id)).toEqual(['car-1']);
      }),
    );
    it(
      'devices: discardNew undoes an import (labels and events too) but keeps a device that has connected',
      withStore(async (s) => {
        await s.devices.createMany([
          { id: 'new-1', tokenHash: 'h1', tags: ['t'], groups: ['g'] },
          { id: 'new-2', tokenHash: 'h2' },
          { id: 'seen', tokenHash: 'h3', tags: ['t'] },
        ]);
        await s.devices.addEvent({ deviceId: 'new-1', at: new Date().toISOString(), kind: 'provisioned', detail: null });
        await s.devices.setPresence('seen', { online: true, session: 1, at: new Date().toISOString() });
        await s.devices.touch(new Map([['seen', new Date().toISOString()]]));
        expect(await s.devices.discardNew(['new-1', 'new-2', 'seen', 'unknown'])).toBe(2);
        expect(await s.devices.get('new-1')).toBeNull();
        expect(await s.devices.events('new-1')).toEqual([]);
        expect((await s.devices.list({ tag: 't' })).devices.map((d) => d.id)).toEqual(['seen']);
        expect(await s.devices.count({ group: 'g' })).toBe(0);
        // The id is free again: the import can be run once more.
        await s.devices.createMany([{ id: 'new-1', tokenHash: 'h4' }]);
        expect(await s.devices.discardNew([])).toBe(0);
      }),
    );

    it(
      'devices: rotation keeps the previous hash until the overlap ends, skips revoked devices',
      withStore(async (s) => {
        await s.devices.createMany([
          { id: 'r1', tokenHash: 'h1' },
          { id: 'r2', tokenHash: 'h2' },
          { id: 'r3', tokenHash: 'h3' },
        ]);
        await s.devices.revoke('r3');
        const until = new Date(Date.now() + 60_000).toISOString();
        const done = await s.devices.rotateCredentials(['r1', 'r2', 'r3', 'nope'], until, (id, g) => `${id}-g${g}`);
        expect(done).toEqual([
          { id: 'r1', generation: 1 },
          { id: 'r2', generation: 1 },
        ]);
        expect(await s.devices.credential('r1')).toEqual({
          tokenHash: 'r1-g1',
          revoked: false,
          groups: [],
          generation: 1,
          previousHash: 'h1',
          previousUntil: until,
          issuedAt: expect.any(String),
          publicKey: null,
        });
        await s.devices.rotateCredentials(['r1'], until, (id, g) => `${id}-g${g}`);
        expect(await s.devices.credential('r1')).toMatchObject({ tokenHash: 'r1-g2', generation: 2, previousHash: 'r1-g1' });
        await s.devices.endOverlap('r1');
        expect(await s.devices.credential('r1')).toMatchObject({ tokenHash: 'r1-g2', previousHash: null, previousUntil: null });
        expect((await s.devices.credential('r3'))?.tokenHash).toBe('h3');
      }),
    );

    it(
      'devices: credential age, and the devices a scheduled rotation takes next, oldest first',
      withStore(async (s) => {
        await s.devices.createMany([
          { id: 'a1', tokenHash: 'h' },
          { id: 'a2', tokenHash: 'h' },
          { id: 'a3', tokenHash: 'h' },
          { id: 'a4', tokenHash: 'h' },
        ]);
        const created = (await s.devices.credential('a1'))!.issuedAt;
        expect(Date.parse(created)).toBeGreaterThan(Date.now() - 60_000);
        const later = new Date(Date.now() + 3600_000).toISOString();
        await s.devices.rotateCredentials(['a2'], later, (id, g) => `${id}-g${g}`, '2000-01-01T00:00:00.000Z');
        await s.devices.rotateCredentials(['a3'], later, (id, g) => `${id}-g${g}`, new Date(Date.now() + 60_000).toISOString());
        await s.devices.revoke('a4');
        expect(new Date((await s.devices.credential('a2'))!.issuedAt).toISOString()).toBe('2000-01-01T00:00:00.000Z');
        // a2 was issued long ago, then a1 (creation); a3 is newer than the cutoff; a4 is revoked.
        expect(await s.devices.credentialsDue(new Date(Date.now() + 30_000).toISOString(), 10)).toEqual(['a2', 'a1']);
        expect(await s.devices.credentialsDue(new Date(Date.now() + 30_000).toISOString(), 1)).toEqual(['a2']);
        expect(await s.devices.credentialsDue('1999-01-01T00:00:00.000Z', 10)).toEqual([]);
      }),
    );

    it(
      'enrollments: recovery with the key on record, refused when revoked, keyless, unverified or replayed',
      withStore(async (s) => {
        const template = { tags: [], groups: [], attributes: {}, serialPattern: null, allowReenroll: false };
        await s.enrollments.create({
          id: 'enr-0000000a',
          name: 'rec',
          claimHash: 'c',
          quota: 2,
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
          template,
          createdBy: 'op',
        });
        const at = new Date().toISOString();
        const hashOf = (id: string, g: number) => `${id}#${g}`;
        await s.enrollments.enroll(
          { enrollmentId: 'enr-0000000a', at, serial: 'k1', publicKey: 'pk1', proofAt: 1000, device: { id: 'k1' } },
          hashOf,
        );
        const seen: string[] = [];
        const verify = (pk: string) => (seen.push(pk), pk === 'pk1');
        const out = await s.enrollments.recover({ deviceId: 'k1', at: '2030-01-01T00:00:00.000Z', proofAt: 2000 }, verify, hashOf);
        expect(out).toMatchObject({ kind: 'recovered', generation: 2, device: { id: 'k1' } });
        expect(seen).toEqual(['pk1']);
        expect(await s.devices.credential('k1')).toMatchObject({ tokenHash: 'k1#2', generation: 2, previousHash: null });
        expect(new Date((await s.devices.credential('k1'))!.issuedAt).toISOString()).toBe('2030-01-01T00:00:00.000Z');
        expect(await s.enrollments.recover({ deviceId: 'k1', at, proofAt: 2000 }, verify, hashOf)).toEqual({
          kind: 'refused',
          reason: 'replayed',
        });
        expect(await s.enrollments.recover({ deviceId: 'k1', at, proofAt: 3000 }, () => false, hashOf)).toEqual({
          kind: 'refused',
          reason: 'proof-invalid',
        });
        expect(await s.enrollments.recover({ deviceId: 'nope', at, proofAt: 3000 }, verify, hashOf)).toEqual({
          kind: 'refused',
          reason: 'unknown',
        });
        await s.devices.createMany([{ id: 'by-hand', tokenHash: 'h' }]);
        expect(await s.enrollments.recover({ deviceId: 'by-hand', at, proofAt: 3000 }, verify, hashOf)).toEqual({
          kind: 'refused',
          reason: 'no-key',
        });
        await s.devices.revoke('k1');
        expect(await s.enrollments.recover({ deviceId: 'k1', at, proofAt: 4000 }, verify, hashOf)).toEqual({
          kind: 'refused',
          reason: 'device-revoked',
        });
        expect((await s.devices.credential('k1'))?.generation).toBe(2);
      }),
    );

    it(
      'enrollments: quota, expiry, revocation, re-enrollment and replay, atomically',
      withStore(async (s) => {
        const template = { tags: ['cars'], groups: ['g'], attributes: { cohort: 'cars' }, serialPattern: null, allowReenroll: false };
        const future = new Date(Date.now() + 3600_000).toISOString();
        await s.enrollments.create({
          id: 'enr-00000001',
          name: 'factory-a',
          claimHash: 'c1',
          quota: 3,
          expiresAt: future,
          template,
          createdBy: 'op',
        });
        await expect(
          s.enrollments.create({
            id: 'enr-00000002',
            name: 'factory-a',
            claimHash: 'c2',
            quota: 1,
            expiresAt: future,
            template,
            createdBy: 'op',
          }),
        ).rejects.toMatchObject({ code: 'ENROLLMENT_EXISTS' });
        expect(await s.enrollments.get('factory-a')).toMatchObject({ id: 'enr-00000001', claimHash: 'c1', used: 0, template });
        const at = new Date().toISOString();
        const attempt = (serial: string, publicKey = `pk-${serial}`, proofAt = 1000) => ({
          enrollmentId: 'enr-00000001',
          at,
          serial,
          publicKey,
          proofAt,
          device: { id: serial, tags: template.tags, groups: template.groups, attributes: template.attributes },
        });
        const hashOf = (id: string, g: number) => `${id}#${g}`;
        // Concurrent attempts never exceed the quota.
        const outs = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map((x) => s.enrollments.enroll(attempt(x), hashOf)));
        expect(outs.filter((o) => o.kind === 'created')).toHaveLength(3);
        expect(outs.filter((o) => o.kind === 'refused' && o.reason === 'quota')).toHaveLength(2);
        expect((await s.enrollments.get('enr-00000001'))?.used).toBe(3);
        const first = outs.find((o) => o.kind === 'created')!;
        const id = first.kind === 'created' ? first.device.id : '';
        expect(await s.devices.credential(id)).toMatchObject({ tokenHash: `${id}#1`, generation: 1, groups: ['g'], publicKey: `pk-${id}` });
        expect((await s.devices.get(id))?.attributes).toEqual({ cohort: 'cars' });
        // Same key, newer proof: re-enrolled (new generation, quota untouched); same proof again: replayed.
        expect(await s.enrollments.enroll(attempt(id, `pk-${id}`, 2000), hashOf)).toMatchObject({ kind: 'reenrolled', generation: 2 });
        expect(await s.enrollments.enroll(attempt(id, `pk-${id}`, 2000), hashOf)).toEqual({ kind: 'refused', reason: 'replayed' });
        expect(await s.enrollments.enroll(attempt(id, 'other-key', 3000), hashOf)).toEqual({ kind: 'refused', reason: 'key-mismatch' });
        expect((await s.enrollments.get('enr-00000001'))?.used).toBe(3);
        await s.devices.createMany([{ id: 'manual', tokenHash: 'h' }]);
        expect(await s.enrollments.enroll(attempt('manual'), hashOf)).toEqual({ kind: 'refused', reason: 'id-taken' });
        await s.devices.revoke(id);
        expect(await s.enrollments.enroll(attempt(id, `pk-${id}`, 4000), hashOf)).toEqual({ kind: 'refused', reason: 'device-revoked' });
        expect(await s.enrollments.enroll({ ...attempt('late'), at: new Date(Date.now() + 7200_000).toISOString() }, hashOf)).toEqual({
          kind: 'refused',
          reason: 'expired',
        });
        expect(await s.enrollments.revoke('enr-00000001')).toBe(true);
        expect(await s.enrollments.enroll(attempt(id, `pk-${id}`, 5000), hashOf)).toEqual({ kind: 'refused', reason: 'revoked' });
        expect(await s.enrollments.enroll({ ...attempt('x'), enrollmentId: 'enr-ffffffff' }, hashOf)).toEqual({
          kind: 'refused',
          reason: 'unknown',
        });
        expect((await s.enrollments.list()).map((e) => e.name)).toEqual(['factory-a']);
      }),
    );

    it(
      'devices: listing pages by id and filters by tag, group, online, model version and state',
      withStore(async (s) => {
        await s.devices.createMany(
          Array.from({ length: 25 }, (_, i) => ({
            id: `d${String(i).padStart(2, '0')}`,
            tokenHash: `h${i}`,
            tags: i % 2 ? ['odd'] : ['even'],
            groups: i < 5 ? ['canary'] : [],
          })),
        );
        const ids: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await s.devices.list({ limit: 10, after });
          ids.push(...page.devices.map((d) => d.id));
          if (!page.next) break;
          after = page.next;
        }
        expect(ids.length).toBe(25);
        expect(new Set(ids).size).toBe(25);
        expect(await s.devices.count({ tag: 'odd' })).toBe(12);
        expect((await s.devices.list({ group: 'canary' })).devices.map((d) => d.id)).toEqual(['d00', 'd01', 'd02', 'd03', 'd04']);
        await s.devices.setReported(
          'd03',
          { v: 1, state: 'idle', model: { name: 'm', version: '1.0.0', sequence: 1 } },
          '2026-01-01T00:00:00.000Z',
        );
        expect((await s.devices.list({ modelVersion: 'm@1.0.0' })).devices.map((d) => d.id)).toEqual(['d03']);
        expect(await s.devices.count({ modelVersion: 'none' })).toBe(24);
        expect((await s.devices.list({ deployState: 'idle' })).devices.map((d) => d.id)).toEqual(['d03']);
        expect((await s.devices.get('d03'))?.reported).toMatchObject({ state: 'idle' });
        await s.devices.setPresence('d07', { online: true, at: '2026-01-01T00:00:00.000Z' });
        expect((await s.devices.list({ online: true, tag: 'odd' })).devices.map((d) => d.id)).toEqual(['d07']);
        const upd = await s.devices.update('d07', { tags: ['x'], groups: ['canary'] });
        expect(upd?.tags).toEqual(['x']);
        expect(await s.devices.count({ tag: 'odd' })).toBe(11);
        expect(await s.devices.count({ group: 'canary' })).toBe(6);
        expect(await s.devices.update('missing', { tags: [] })).toBeNull();
        await s.devices.resetPresence();
        expect(await s.devices.count({ online: true })).toBe(0);
      }),
    );

    it(
      'devices: a stale presence session never overrides a newer one [WIRE-2.6]',
      withStore(async (s) => {
        await s.devices.createMany([{ id: 'p', tokenHash: 'h' }]);
        expect(await s.devices.setPresence('p', { online: true, session: 5, at: '2026-01-01T00:00:01.000Z' })).toBe(true);
        expect(await s.devices.setPresence('p', { online: false, session: 4, at: '2026-01-01T00:00:02.000Z' })).toBe(false);
        expect(await s.devices.get('p')).toMatchObject({ online: true, session: 5 });
        expect(await s.devices.setPresence('p', { online: false, session: 5, at: '2026-01-01T00:00:03.000Z' })).toBe(true);
        expect((await s.devices.get('p'))?.online).toBe(false);
        await s.devices.touch(new Map([['p', '2026-01-01T00:00:09.000Z']]));
        await s.devices.touch(new Map([['p', '2026-01-01T00:00:05.000Z']]));
        expect((await s.devices.get('p'))?.lastSeenAt).toBe('2026-01-01T00:00:09.000Z');
      }),
    );

    it(
      'devices: desired state revisions grow per device; events are kept newest first',
      withStore(async (s) => {
        await s.devices.createMany([
          { id: 'a', tokenHash: 'h' },
          { id: 'b', tokenHash: 'h2' },
          { id: 'r', tokenHash: 'h3' },
        ]);
        await s.devices.revoke('r');
        const first = await s.devices.setDesired(['a', 'b', 'r', 'zz'], (rev) => ({ rev, bundle: 'x' }), 'x');
        expect([...first.entries()]).toEqual([
          ['a', { rev: 1, bundle: 'x' }],
          ['b', { rev: 1, bundle: 'x' }],
        ]);
        const second = await s.devices.setDesired(['a'], (rev) => ({ rev, bundle: null }), null);
        expect(second.get('a')).toEqual({ rev: 2, bundle: null });
        expect(await s.devices.get('a')).toMatchObject({ desiredRev: 2, desiredBundleId: null, desired: { rev: 2, bundle: null } });
        expect((await s.devices.listDesired(null, 10)).map((d) => d.id)).toEqual(['a', 'b']);
        expect((await s.devices.listDesired('a', 10)).map((d) => d.id)).toEqual(['b']);
        for (let i = 0; i < 3; i++)
          await s.devices.addEvent({ deviceId: 'a', at: `2026-01-01T00:00:0${i}.000Z`, kind: 'k', detail: { i } });
        expect((await s.devices.events('a', 2)).map((e) => e.detail)).toEqual([{ i: 2 }, { i: 1 }]);
      }),
    );

    it(
      'devices: ids are ordered and paged by byte order, whatever the database locale',
      withStore(async (s) => {
        const ids = ['b', 'a_1', 'B', 'a1', '_x', 'a-1', 'Z9'];
        await s.devices.createMany(ids.map((id, i) => ({ id, tokenHash: `h${i}` })));
        const byteOrder = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect((await s.devices.list()).devices.map((d) => d.id)).toEqual(byteOrder);
        const first = await s.devices.list({ limit: 3 });
        expect(first.next).toBe(byteOrder[2]);
        expect((await s.devices.list({ after: first.next!, limit: 100 })).devices.map((d) => d.id)).toEqual(byteOrder.slice(3));
        await s.devices.setDesired(ids, (rev) => ({ rev }), null);
        expect((await s.devices.listDesired(null, 100)).map((d) => d.id)).toEqual(byteOrder);
      }),
    );

    it(
      'devices: what a device reports comes back exactly as written (key order, a NUL in its error text)',
      withStore(async (s) => {
        await s.devices.createMany([{ id: 'e', tokenHash: 'h' }]);
        const reported = { v: 1, state: 'failed', lastError: 'bad\u0000byte', model: { version: '1.0.0', name: 'm' }, zeta: 1, alpha: 2 };
        await s.devices.setReported('e', reported, '2026-01-01T00:00:00.000Z');
        expect(JSON.stringify((await s.devices.get('e'))!.reported)).toBe(JSON.stringify(reported));
        await s.devices.addEvent({
          deviceId: 'e',
          at: '2026-01-01T00:00:00.000Z',
          kind: 'status',
          detail: { reason: 'nul\u0000here', b: 1, a: 2 },
        });
        expect(JSON.stringify((await s.devices.events('e'))[0]!.detail)).toBe(JSON.stringify({ reason: 'nul\u0000here', b: 1, a: 2 }));
        const desired = await s.devices.setDesired(['e'], (rev) => ({ v: 1, rev, zz: 'last-first', aa: null }), null);
        expect(JSON.stringify((await s.devices.listDesired(null, 1))[0]!.desired)).toBe(JSON.stringify(desired.get('e')));
      }),
    );

    it(
      'devices: a duplicate inside one batch fails the whole batch; each device keeps its newest 500 events',
      withStore(async (s) => {
        await expect(
          s.devices.createMany([
            { id: 'x', tokenHash: 'h' },
            { id: 'y', tokenHash: 'h' },
            { id: 'x', tokenHash: 'h2' },
          ]),
        ).rejects.toMatchObject({ code: 'DEVICE_EXISTS', message: "device 'x' already exists" });
        expect(await s.devices.count()).toBe(0);
        await s.devices.createMany([{ id: 'x', tokenHash: 'h' }]);
        for (let i = 0; i < 600; i++) await s.devices.addEvent({ deviceId: 'x', at: '2026-01-01T00:00:00.000Z', kind: 'k', detail: { i } });
        const kept = await s.devices.events('x', 1000);
        expect(kept.length).toBe(500);
        expect(kept[0]!.detail).toEqual({ i: 599 });
        expect(kept.at(-1)!.detail).toEqual({ i: 100 });
      }),
    );

    it(
      'devices: a batch of events is written in order, each device still keeps its newest 500; retention deletes by age in slices',
      withStore(async (s) => {
        await s.devices.createMany([
          { id: 'p', tokenHash: 'h' },
          { id: 'q', tokenHash: 'h' },
        ]);
        const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
        const batch = Array.from({ length: 620 }, (_, i) => ({ deviceId: i % 2 ? 'q' : 'p', at: at(i % 60), kind: 'k', detail: { i } }));
        await s.devices.addEvents(batch);
        await s.devices.addEvents([]);
        const p = await s.devices.events('p', 1000);
        expect(p.map((e) => (e.detail as { i: number }).i)).toEqual(
          batch
            .filter((e) => e.deviceId === 'p')
            .map((e) => e.detail.i)
            .reverse(),
        );
        // 700 more for q, one batch: the bound holds across a batch, not only across single inserts.
        await s.devices.addEvents(Array.from({ length: 700 }, (_, i) => ({ deviceId: 'q', at: at(59), kind: 'k', detail: { j: i } })));
        const q = await s.devices.events('q', 1000);
        expect(q.length).toBeLessThanOrEqual(550);
        expect(q[0]!.detail).toEqual({ j: 699 });
        // Age: the events before minute 10 go, at most `limit` a call, oldest first; the rest stay.
        const old = [...p, ...q].filter((e) => e.at < at(10)).length;
        expect(old).toBeGreaterThan(20);
        const first = await s.devices.pruneEvents(at(10), 20);
        expect(first).toBe(20);
        let rest = 0;
        for (let n = first; n > 0; rest += n) n = await s.devices.pruneEvents(at(10), 20);
        expect(first + rest).toBe(old);
        const left = [...(await s.devices.events('p', 1000)), ...(await s.devices.events('q', 1000))];
        expect(left.length).toBe(p.length + q.length - old);
        expect(left.every((e) => e.at >= at(10))).toBe(true);
        expect(await s.devices.pruneEvents(at(10), 20)).toBe(0);
      }),
    );

    it(
      'bundles: sequences grow per model, found by id prefix, one sequence per model',
      withStore(async (s) => {
        const b = (id: string, sequence: number, model = 'm') => ({
          id: id.repeat(64),
          model,
          modelVersion: 1,
          version: '1.0.0',
          sequence,
          manifestDigest: 'c'.repeat(64),
          envelopeDigest: 'e'.repeat(64),
          keyId: 'k',
          chunkDigests: ['1'.repeat(64)],
          bytes: 10,
          payloadBytes: 8,
          artifact: 'model.onnx',
          createdAt: new Date().toISOString(),
          createdBy: 't',
        });
        expect(await s.bundles.nextSequence('m')).toBe(1);
        await s.bundles.create(b('a', 1));
        await s.bundles.create(b('b', 2));
        await s.bundles.create(b('d', 1, 'other'));
        expect(await s.bundles.nextSequence('m')).toBe(3);
        await expect(s.bundles.create(b('f', 2))).rejects.toMatchObject({ code: 'BUNDLE_SEQUENCE_TAKEN' });
        expect((await s.bundles.get('bbbbbbbb'))?.sequence).toBe(2);
        expect(await s.bundles.get('bbbb')).toBeNull();
        expect((await s.bundles.get('a'.repeat(64)))?.chunkDigests).toEqual(['1'.repeat(64)]);
        expect((await s.bundles.list({ model: 'm' })).length).toBe(2);
        expect((await s.bundles.list()).length).toBe(3);
        await expect(s.bundles.create({ ...b('a', 9) })).rejects.toMatchObject({ code: 'BUNDLE_EXISTS' });
      }),
    );
    it(
      'devices: lists a 10,000-device fleet by page and filter without scanning it for every page',
      withStore(async (s) => {
        const id = (i: number) => `d${String(i).padStart(5, '0')}`;
        await s.devices.createMany(
          Array.from({ length: 10_000 }, (_, i) => ({
            id: id(i),
            tokenHash: `h${i}`,
            tags: [i % 100 === 0 ? 'rare' : 'common', i % 2 ? 'odd' : 'even'],
            groups: [`g${i % 10}`],
          })),
        );
        for (let i = 0; i < 10_000; i += 7) await s.devices.setPresence(id(i), { online: true, at: '2026-01-01T00:00:00.000Z' });
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
      }),
      60_000,
    );
  });
}
