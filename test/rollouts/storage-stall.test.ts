// A device whose disk is full during a rollout (issue 16, item 9), on a real server process and a real agent
// whose storage fails as a full disk does (the agent's FileStorage behind a seam that refuses writes): the
// rollout shows the device `stalled` in its stage with the ENOSPC reason, not as a failed install; once the
// stall outlasts FLOTILLA_ROLLOUT_STALL_REPORT_SEC it records a `device_stalled` rollout event and publishes
// `rollout.device_stalled`, once; when the disk has room the device installs and its stage counts it updated.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentError, createAgent, FileStorage, type Agent, type AgentStorage } from '@flotilla/edge-agent';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { serverBundle, serverKey } from '../agent/server-kit.ts';
import { waitUntil } from '../agent/harness/wait.ts';

/** The agent's real file storage, whose writes fail as on a full disk while `full` is set. */
class FillableDisk implements AgentStorage {
  full = false;
  constructor(private readonly disk: FileStorage) {}
  read(key: string) {
    return this.disk.read(key);
  }
  delete(key: string) {
    return this.disk.delete(key);
  }
  list(prefix: string) {
    return this.disk.list(prefix);
  }
  freeBytes() {
    return this.full ? Promise.resolve(0) : this.disk.freeBytes();
  }
  close() {
    return this.disk.close();
  }
  write(key: string, bytes: Uint8Array) {
    if (!this.full) return this.disk.write(key, bytes);
    return Promise.reject(new AgentError('AGENT_STORAGE_FAILED', `storage write of ${key} failed: ENOSPC: no space left on device`));
  }
}

const MODEL = 'stall-classifier';
const TAG = `stall-${process.pid}`;
let srv: ServerHandle;
let agent: Agent | undefined;

beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_ROLLOUT_TICK_MS: '300', FLOTILLA_ROLLOUT_STALL_REPORT_SEC: '2' } });
}, 60_000);
afterAll(async () => {
  await agent?.close();
  await srv?.dispose();
});

it('shows a device whose disk is full as stalled with its reason, counted in its stage, and publishes rollout.device_stalled once', async () => {
  const v1 = await serverBundle(srv, MODEL);
  const v2 = await serverBundle(srv, MODEL);
  const made = await srv.api('POST', '/api/v1/devices', { id: `full-${process.pid}`, tags: [TAG] });
  expect(made.status).toBe(201);
  const id = made.body.id as string;
  expect((await srv.api('PUT', `/api/v1/devices/${id}/desired`, { bundle: v1.id })).status).toBe(200);
  const disk = new FillableDisk(await FileStorage.open(mkdtempSync(join(tmpdir(), 'agent-stall-'))));
  agent = await createAgent({
    deviceId: id,
    token: made.body.token,
    server: srv.url,
    dataDir: mkdtempSync(join(tmpdir(), 'agent-stall-dir-')),
    storage: disk,
    trustedKeys: [await serverKey(srv)],
    backoff: { minMs: 100, maxMs: 1000 },
  });
  await waitUntil(() => agent!.model?.version === v1.version && agent!.state === 'idle', 'v1 installed', 30_000);

  disk.full = true;
  const r = await srv.api('POST', '/api/v1/rollouts', {
    bundle: v2.id,
    target: { tags: [TAG] },
    reason: 'stall test',
    // A long bake keeps the rollout running while the device is stalled (gates alone do not wait for installs).
    stages: [{ percent: 100, bakeSec: 600, gates: { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null } }],
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const rollout = r.body.id as string;
  const status = async () => (await srv.api('GET', `/api/v1/rollouts/${rollout}`)).body;

  // Counted in its stage as stalled, not as a failed install; its timeline says why.
  const stalled = await waitUntil(
    async () => ((await status()).stages[0].counts.stalled === 1 ? status() : null),
    'the stage counts the device as stalled',
    30_000,
  );
  expect(stalled.stages[0].counts.failed ?? 0).toBe(0);
  expect(stalled.state).toBe('running');
  const device = (await srv.api('GET', `/api/v1/rollouts/${rollout}/devices/${id}`)).body;
  expect(device.state).toBe('stalled');
  expect(device.timeline.at(-1)).toMatchObject({
    kind: 'status',
    state: 'stalled',
    detail: { event: 'stalled', reason: expect.stringMatching(/^AGENT_STORAGE_FAILED: .*ENOSPC/) },
  });

  // Past the 2 s threshold the next stall report becomes a rollout event and a public event.
  const events = async () =>
    ((await srv.api('GET', `/api/v1/rollouts/${rollout}/events`)).body.events as { kind: string; stage: number; detail: any }[]).filter(
      (e) => e.kind === 'device_stalled',
    );
  const [event] = await waitUntil(async () => ((await events()).length ? events() : null), 'a device_stalled rollout event', 30_000);
  expect(event!.stage).toBe(0);
  expect(event!.detail).toMatchObject({ deviceId: id, stage: 0, reason: expect.stringContaining('ENOSPC') });
  expect(Date.now() - Date.parse(event!.detail.since)).toBeGreaterThanOrEqual(2000);
  const published = (await srv.api('GET', '/api/v1/events/page?types=rollout.device_stalled')).body.events as {
    subject: string;
    data: any;
  }[];
  expect(published).toHaveLength(1);
  expect(published[0]).toMatchObject({ subject: rollout, data: { rolloutId: rollout, model: MODEL, detail: { deviceId: id } } });

  // Another report of the same stall (the agent backs off 1, 2, 4, 8 s...) raises no second event.
  const stallReports = async () =>
    ((await srv.api('GET', `/api/v1/rollouts/${rollout}/devices/${id}`)).body.timeline as { state: string }[]).filter(
      (e) => e.state === 'stalled',
    ).length;
  const reports = await stallReports();
  await waitUntil(async () => (await stallReports()) > reports, 'one more stall report', 30_000);
  expect(await events()).toHaveLength(1);

  // Room again: the device installs and its stage counts it updated.
  disk.full = false;
  await waitUntil(() => agent!.model?.version === v2.version && agent!.state === 'idle', 'v2 installed once the disk has room', 60_000);
  const done = await waitUntil(
    async () => ((await status()).stages[0].counts.updated === 1 ? status() : null),
    'the device counted as updated',
    30_000,
  );
  expect(done.stages[0].counts).toEqual({ updated: 1 });
}, 150_000);
