// The event wiring on real SQLite files: registry and bundle writes publish through the wrapped store (for
// every caller), monitoring's alert changes map to alert.* events, retraining jobs publish their
// transitions, and the log survives a reopen of the data folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../monitoring/alert.ts';
import { createLogger } from '../log/logger.ts';
import { LocalLeaseStore } from '../store/lease.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { openDb } from '../store/sqlite/db.ts';
import { SqliteRetrainingStore } from '../store/sqlite/sqlite-retraining-store.ts';
import { RetrainingService } from '../retraining/retraining-service.ts';
import { openEvents, type EventsWiring } from './events.ts';
import { openEventStores } from './event-stores.ts';
import { pgScratch } from '../store/postgres/pg-test-kit.ts';
import { postgresMissing, startPostgres } from '@flotilla/test/support/postgres';

let dir: string;
let store: Store;
let events: EventsWiring;

const open = () =>
  openEvents({ storeUri: undefined, dataDir: dir, store, leases: new LocalLeaseStore(), holder: 'test', log: createLogger('silent') });
const types = async () => (await events.bus.log.after(0, 1000)).map((e) => [e.type, e.subject]);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-events-wiring-'));
  store = openSqliteStore(join(dir, 'flotilla.db'));
  events = await open();
});

afterEach(async () => {
  await events.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'al_1',
  cohort: 'north',
  model: 'fraud@1',
  features: [],
  severity: 'warning',
  since: '2026-01-01T00:00:00.000Z',
  windows: 3,
  state: 'open',
  openedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  resolvedAt: null,
  resolvedBy: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ...over,
});

describe('event wiring', () => {
  it('registry and bundle writes publish after they commit; a refused write publishes nothing', async () => {
    const v = await store.models.addVersion({
      model: 'fraud',
      runId: null,
      format: 'onnx',
      artifacts: { 'model.onnx': 'ab'.repeat(32) },
      signature: null,
      metrics: null,
      quantization: null,
      tags: [],
      description: '',
    });
    await store.models.moveAlias({ model: 'fraud', alias: 'champion', toVersion: v.version, actor: 'tok_1', reason: 'first' });
    const b = {
      id: 'cd'.repeat(32),
      model: 'fraud',
      modelVersion: 1,
      version: '1.0.0',
      sequence: 1,
      manifestDigest: 'm',
      envelopeDigest: 'e',
      keyId: 'k',
      chunkDigests: [],
      bytes: 10,
      payloadBytes: 8,
      artifact: 'model.onnx',
      createdAt: new Date().toISOString(),
      createdBy: 'tok_1',
    };
    await store.bundles.create(b);
    await expect(store.bundles.create({ ...b, id: 'ef'.repeat(32) })).rejects.toThrow();
    // Reads pass through the wrapper untouched.
    expect((await store.models.resolve('fraud@champion'))?.version).toBe(1);
    expect(await types()).toEqual([
      ['flotilla.model.version_registered', 'fraud@1'],
      ['flotilla.model.alias_moved', 'fraud@champion'],
      ['flotilla.bundle.created', b.id],
    ]);
    const [, moved, bundle] = await events.bus.log.after(0);
    expect(moved!.data).toMatchObject({
      model: 'fraud',
      alias: 'champion',
      fromVersion: null,
      toVersion: 1,
      actor: 'tok_1',
      reason: 'first',
    });
    expect(bundle!.data).toMatchObject({ id: b.id, model: 'fraud', modelVersion: 1, version: '1.0.0', sequence: 1 });
  });

  it('maps alert changes to opened, escalated, acknowledged and resolved (updates are not events)', async () => {
    events.onAlert({ type: 'raised', alert: alert() });
    events.onAlert({ type: 'updated', alert: alert({ windows: 4 }) });
    events.onAlert({ type: 'escalated', alert: alert({ severity: 'critical' }) });
    events.onAlert({ type: 'acknowledged', alert: alert({ acknowledgedBy: 'tok_2' }) });
    events.onAlert({ type: 'resolved', alert: alert({ state: 'resolved', resolvedBy: 'detector' }) });
    await events.bus.publish('bundle.created', 'flush', null); // publishes run in order: this one lands after the alerts
    expect((await types()).slice(0, 4)).toEqual([
      ['flotilla.alert.opened', 'al_1'],
      ['flotilla.alert.escalated', 'al_1'],
      ['flotilla.alert.acknowledged', 'al_1'],
      ['flotilla.alert.resolved', 'al_1'],
    ]);
    expect((await events.bus.log.after(3, 1))[0]!.data).toMatchObject({ state: 'resolved', resolvedBy: 'detector' });
  });

  it('retraining publishes started and its outcome', async () => {
    const db = openDb(join(dir, 'flotilla.db'));
    const rt = new RetrainingService({
      store,
      blobs: null as never,
      samples: null as never,
      runs: null as never,
      conversion: null as never,
      retrainingStore: new SqliteRetrainingStore(db),
      log: createLogger('silent'),
      events: events.bus,
    });
    await rt.setPolicy('fraud', { trigger: {}, data: { parent: 'fraud' } });
    // No champion alias: the job fails at once, which is a transition like any other.
    const job = await rt.retrain('fraud', 'tok_1');
    expect(job.status).toBe('failed');
    expect(await types()).toEqual([
      ['flotilla.retrain.started', job.id],
      ['flotilla.retrain.failed', job.id],
    ]);
    const [started, failed] = await events.bus.log.after(0);
    expect(started!.data).toMatchObject({ status: 'running', model: 'fraud', trigger: 'manual' });
    expect(failed!.data).toMatchObject({ status: 'failed', error: job.error });
    db.close();
  });

  it('a store that cannot append logs the failure and the change still stands', async () => {
    await events.close();
    // The wrapped store now publishes into a closed log: the version is registered anyway.
    const v = await store.models.addVersion({
      model: 'm',
      runId: null,
      format: 'onnx',
      artifacts: {},
      signature: null,
      metrics: null,
      quantization: null,
      tags: [],
      description: '',
    });
    expect((await store.models.getVersion('m', v.version))?.version).toBe(1);
    events = await open();
    expect(await events.bus.log.head()).toBe(0);
  });
});

describe.skipIf(postgresMissing())('event stores on PostgreSQL', () => {
  const pg = pgScratch(startPostgres);

  it('open on a postgres:// store URI (with pool_max); two opens at once migrate safely and share one log', async () => {
    const url = await pg.db('events');
    const [a, b] = await Promise.all([openEventStores(`${url}?pool_max=3`, dir), openEventStores(url, dir)]);
    try {
      await a.log.append({ type: 'rollout.created', subject: 'ro_1', data: { n: 1 } });
      await b.log.append({ type: 'rollout.started', subject: 'ro_1', data: { n: 2 } });
      expect((await a.log.after(0)).map((e) => [e.sequence, e.type])).toEqual([
        [1, 'flotilla.rollout.created'],
        [2, 'flotilla.rollout.started'],
      ]);
      expect(await b.hooks.list()).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
