// A disk that fills up as an update starts: the agent reports the failure to the server (a status event
// about the bundle, so the rollout sees it), retries with backoff, and installs once writes work again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { AgentError, FileStorage, type AgentStorage } from '@flotilla/edge-agent';
import { path } from './harness/agents.ts';
import { deviceOnV1, HAPPY, twoVersionsSuite } from './harness/two-versions.ts';
import { waitUntil } from './harness/wait.ts';

/** The agent's real file storage, whose writes fail as on a full disk while `full` is set. */
class FillableDisk implements AgentStorage {
  full = false;
  /** Only writes under this prefix fail while `full` (big blobs fail first on a nearly full disk). */
  only = '';
  failedWrites = 0;
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
    if (!this.full || !key.startsWith(this.only)) return this.disk.write(key, bytes);
    this.failedWrites++;
    return Promise.reject(new AgentError('AGENT_STORAGE_FAILED', `storage write of ${key} failed: ENOSPC: no space left on device`));
  }
}

const env = twoVersionsSuite();

/** A device on v1 whose agent keeps its data on a disk the test can fill. */
async function onFillableDisk(label: string) {
  const disk = new FillableDisk(await FileStorage.open(mkdtempSync(join(tmpdir(), 'agent-full-'))));
  const t = await deviceOnV1(env.h, env.v1, label, { storage: disk });
  return { t, disk, d: env.h.device(t.id) };
}

it('reports a full disk at the start of an update as a stalled status event, retries with backoff, and installs once space is back', async () => {
  const { t, disk, d } = await onFillableDisk('full-disk');

  disk.full = true;
  await env.h.setDesired(t.id, env.v2.ref);
  const first = await waitUntil(() => d.statuses.find((s) => s.event === 'stalled'), 'a stalled status event at the server');
  expect(first).toMatchObject({ bundleId: env.v2.ref.id, from: 'idle', to: 'idle' });
  expect(first.reason).toMatch(/^AGENT_STORAGE_FAILED: storage write of state\/update\.json failed: ENOSPC.*; retry 1 in \d+ ms$/);
  // Still trying: a second attempt stalls too, and says so.
  const second = await waitUntil(
    () => d.statuses.find((s) => s.event === 'stalled' && s.reason.includes('retry 2 in')),
    'a second stalled attempt',
  );
  expect(second.seq).toBeGreaterThan(first.seq);
  expect(t.agent.model?.version).toBe('1.0.0');

  disk.full = false;
  await waitUntil(
    () => t.agent.model?.version === '2.0.0' && t.agent.state === 'idle',
    'v2 installed after the disk has room again',
    30_000,
  );
  await waitUntil(
    () => d.statuses.some((s) => s.bundleId === env.v2.ref.id && s.from === 'committing' && s.to === 'idle'),
    'the commit reported',
  );
  // Every event has its own number, so the server's duplicate check drops none of the retry's [WIRE-2.4].
  const seqs = d.statuses.map((s) => s.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  // The stalls come first, then the whole update as usual.
  const events = d.statuses.filter((s) => s.bundleId === env.v2.ref.id);
  const stalls = events.filter((s) => s.event === 'stalled').length;
  expect(events.slice(0, stalls).every((s) => s.event === 'stalled')).toBe(true);
  expect(path(events.slice(stalls))).toBe(HAPPY);
  expect(disk.failedWrites).toBeGreaterThan(0);
  await t.agent.close();
});

it('retries an update that failed because chunks could not be stored, and installs once space is back', async () => {
  const { t, disk, d } = await onFillableDisk('full-chunks');

  disk.only = 'chunks/';
  disk.full = true;
  await env.h.setDesired(t.id, env.v2.ref);
  // Reported as a failure of this bundle, with the storage error as the reason, and tried again.
  const failures = () => d.statuses.filter((s) => s.bundleId === env.v2.ref.id && s.to === 'failed');
  await waitUntil(() => failures().length >= 2, 'two failed attempts reported at the server');
  expect(failures()[0]!.reason).toMatch(/^AGENT_STORAGE_FAILED: storage write of chunks\/[0-9a-f]{64} failed: ENOSPC/);
  expect(t.agent.model?.version).toBe('1.0.0');

  disk.full = false;
  await waitUntil(
    () => t.agent.model?.version === '2.0.0' && t.agent.state === 'idle',
    'v2 installed after the disk has room again',
    30_000,
  );
  await waitUntil(
    () => d.statuses.some((s) => s.bundleId === env.v2.ref.id && s.from === 'committing' && s.to === 'idle'),
    'the commit reported',
  );
  await t.agent.close();
});
