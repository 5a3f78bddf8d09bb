// Several server processes on shared engines (issue 11's must-show): two `flotilla server` processes on
// one PostgreSQL database, one Mosquitto 2 (dynamic security) and one S3 bucket, with simulated devices
// split across them. One rollout is advanced by exactly one process, every device's telemetry is stored
// once and without gaps, and killing one process loses nothing while the other carries on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetSimulator } from '../../server/src/simulator/index.ts';
import { until } from '../delivery/fleet-kit.ts';
import { E2E_ENV, E2E_GATES, rolloutKit, trainDigits } from '../rollouts/rollout-kit.ts';
import { mosquittoDynsecMissing, startMosquitto, type MosquittoBroker } from '../support/mosquitto.ts';
import { postgresMissing, startPostgres, type TestPostgres } from '../support/postgres.ts';
import { startS3, type TestS3 } from '../support/s3-server.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

const PER_SERVER = 5;
const TAG = 'two';
const stages = (percents: number[], bakeSec = 3) => percents.map((percent) => ({ percent, bakeSec, gates: E2E_GATES }));
const skip = postgresMissing() ?? mosquittoDynsecMissing();

describe.skipIf(skip)('two server processes on one PostgreSQL, one Mosquitto and one S3 bucket', () => {
  let db: TestPostgres;
  let dbUrl: string;
  let mq: MosquittoBroker;
  let s3: TestS3;
  let shared: string;
  let a: ServerHandle;
  let b: ServerHandle;
  let simA: FleetSimulator;
  let simB: FleetSimulator;
  let sql: pg.Client;
  let model: string;
  const token = 'flt_test_admin_two_servers';

  const start = () =>
    startServerProcess({
      token,
      args: ['--store', dbUrl, '--blobs', s3.url('fleet/'), '--shared-dir', shared],
      // The broker URL holds the admin password: the environment, never the command line.
      env: { ...E2E_ENV, ...s3.env, FLOTILLA_MQTT_URL: mq.adminUrl },
    });
  const onVersion = (version: string) => (simA.versions()[version] ?? 0) + (simB.versions()[version] ?? 0);
  /** Windows per device: how many rows, and the seq range they span (equal counts mean no gaps, the key means no duplicates). */
  const windows = async (since = 0) =>
    (
      await sql.query<{ device_id: string; n: string; lo: string; hi: string }>(
        'SELECT device_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM telemetry_windows WHERE received_ms >= $1 GROUP BY device_id',
        [since],
      )
    ).rows;

  beforeAll(async () => {
    db = await startPostgres();
    dbUrl = await db.createDatabase('two_servers');
    mq = await startMosquitto();
    s3 = await startS3();
    shared = mkdtempSync(join(tmpdir(), 'flotilla-shared-'));
    // One after the other: the first creates the schema, the signing key and the admin token.
    a = await start();
    b = await start();
    sql = new pg.Client({ connectionString: dbUrl });
    await sql.connect();
    model = await trainDigits(a);
    const common = { token, devices: PER_SERVER, cohorts: ['car'], tags: [TAG], rate: 3, telemetryWindowSec: 2 };
    simA = await FleetSimulator.start({ ...common, server: a.url, idPrefix: 'via-a' });
    simB = await FleetSimulator.start({ ...common, server: b.url, idPrefix: 'via-b' });
  }, 300_000);

  afterAll(async () => {
    const step = async (name: string, f: () => Promise<unknown> | undefined) => {
      const t0 = Date.now();
      await f();
      if (Date.now() - t0 > 5000) console.warn(`[two-servers] closing ${name} took ${Date.now() - t0} ms`);
    };
    await step('simulator A', () => simA?.close());
    await step('simulator B', () => simB?.close());
    await step('sql', () => sql?.end());
    await step('server A', () => a?.dispose());
    await step('server B', () => b?.dispose());
    await step('mosquitto', () => mq?.stop());
    await step('s3', () => s3?.stop());
    await step('postgres', () => db?.stop());
    if (shared) rmSync(shared, { recursive: true, force: true });
  }, 180_000);

  it('advances a rollout exactly once, created on one process and bundled on the other; telemetry stored once', async () => {
    // Bundled on B from the model A trained: B reads A's artifacts from the shared bucket.
    const bundle = await rolloutKit(() => b, { tags: [TAG] }).bundle({ model, version: '1.0.0' });
    const kit = rolloutKit(() => a, { tags: [TAG] });
    const id = await kit.create({ bundle, stages: stages([50, 100]) });
    const done = await rolloutKit(() => b, { tags: [TAG] }).waitState(id, ['completed', 'paused', 'aborted'], 120_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('completed');
    await until(
      async () => onVersion('1.0.0'),
      (n) => n === 2 * PER_SERVER,
      60_000,
      'every device on 1.0.0',
    );

    const events: { kind: string; actor: string; detail?: { stage?: number } }[] = (await kit.events(id)).events;
    const decisions = events.filter((e) => e.kind === 'stage_passed' || e.kind === 'finish');
    // One decision per stage boundary, each made by one engine (its actor names the process's lease).
    expect(decisions.map((e) => e.kind)).toEqual(['stage_passed', 'finish']);
    expect(decisions.every((e) => e.actor.startsWith('engine@'))).toBe(true);
    // Status events reach whichever process the broker hands them to; the last may land after the verdict.
    const states = await until(
      async () => (await kit.rolloutDevices(id)).map((d) => `${d.deviceId}:${d.state}`),
      (ds) => ds.every((d) => d.endsWith(':updated')),
      30_000,
      'every device updated',
    );
    expect(states).toHaveLength(2 * PER_SERVER);

    // Every device reported through the one broker; each window is stored once and none is missing.
    await until(windows, (rows) => rows.length === 2 * PER_SERVER, 30_000, 'windows from every device');
    for (const r of await windows()) expect(Number(r.n), r.device_id).toBe(Number(r.hi) - Number(r.lo) + 1);
  }, 240_000);

  it('loses nothing when one process is killed: the other finishes the rollout and keeps storing telemetry', async () => {
    const bundle = await rolloutKit(() => b, { tags: [TAG] }).bundle({ model, version: '1.0.1' });
    const id = await rolloutKit(() => a, { tags: [TAG] }).create({ bundle, stages: stages([50, 100], 4) });
    await until(
      async () => onVersion('1.0.1'),
      (n) => n > 0,
      60_000,
      'the first stage installing',
    );
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const kit = rolloutKit(() => b, { tags: [TAG] });
    const done = await kit.waitState(id, ['completed', 'paused', 'aborted'], 120_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('completed');
    await until(
      async () => onVersion('1.0.1'),
      (n) => n === 2 * PER_SERVER,
      60_000,
      'every device on 1.0.1',
    );
    const decisions = (await kit.events(id)).events.filter((e: { kind: string }) => e.kind === 'stage_passed' || e.kind === 'finish');
    expect(decisions.map((e: { kind: string }) => e.kind)).toEqual(['stage_passed', 'finish']);

    // Windows keep arriving from every device (those A provisioned included), still without gaps: a
    // window A took but never stored is resent by its agent and stored by B.
    await until(
      () => windows(killedAt + 5_000),
      (rows) => rows.length === 2 * PER_SERVER,
      60_000,
      'windows from every device after the kill',
    );
    await until(
      windows,
      (rows) => rows.every((r) => Number(r.n) === Number(r.hi) - Number(r.lo) + 1),
      60_000,
      "no gaps in any device's windows",
    );
  }, 300_000);
});
