// Update control on real agents against the harness broker [WIRE-2.2.2, 2.3.1, 2.4.2, 2.4.3]: a download
// that waits for an unmetered link and reports why; download progress in the reported state; a blob the
// server cannot find (a transient failure) retried with backoff, reported with its retry time, and
// installed once it is there; a failure retried after its retries ran out only on a new retry nonce.
import { expect, it } from 'vitest';
import { deviceOnV1, twoVersionsSuite } from './harness/two-versions.ts';
import { waitUntil } from './harness/wait.ts';

const env = twoVersionsSuite();

it('waits for an unmetered link before downloading, says so, and downloads once the app reports one', async () => {
  const t = await deviceOnV1(env.h, env.v1, 'metered', { updateCheckMs: 50 });
  const d = env.h.device(t.id);
  t.agent.setConditions({ metered: true, charging: true });
  await env.h.setDesired(t.id, env.v2.ref, {}, { bundle: null }, { update: { conditions: { unmetered: true } } });
  const wait = await waitUntil(() => d.statuses.find((s) => s.to === 'waiting_download'), 'a waiting_download status event');
  expect(wait).toMatchObject({
    from: 'downloading',
    event: 'wait',
    reason: 'waiting for an unmetered link',
    waiting: { kind: 'condition', reason: 'waiting for an unmetered link' },
  });
  await waitUntil(() => d.reported?.update?.waiting?.kind === 'condition', 'the reported state says what it waits on');
  // Nothing was fetched while waiting.
  expect([...d.served.keys()].filter((k) => env.v2.blobs.has(k) && !env.v1.blobs.has(k))).toEqual([]);
  expect(t.agent.model?.version).toBe('1.0.0');

  t.agent.setConditions({ metered: false });
  await waitUntil(() => t.agent.model?.version === '2.0.0' && t.agent.state === 'idle', 'v2 installed once unmetered');
  expect(
    d.statuses
      .filter((s) => s.bundleId === env.v2.ref.id)
      .map((s) => s.to)
      .slice(0, 3),
  ).toEqual(['downloading', 'waiting_download', 'downloading']);
  await t.agent.close();
});

it('retries a transient download failure with backoff, reporting permanent: false and the retry time, and installs once the blob is back', async () => {
  const t = await deviceOnV1(env.h, env.v1, 'transient', { updateRetry: { minMs: 300, maxMs: 600, maxAttempts: 20 } });
  const d = env.h.device(t.id);
  // A chunk only v2 has goes missing on the server: NOT_FOUND, a failure that says nothing about the bundle.
  const missing = [...env.v2.blobs.keys()].find((k) => !env.v1.blobs.has(k) && k !== env.v2.ref.manifestDigest)!;
  const bytes = env.h.blobs.get(missing)!;
  env.h.blobs.delete(missing);
  try {
    await env.h.setDesired(t.id, env.v2.ref);
    const failures = () => d.statuses.filter((s) => s.bundleId === env.v2.ref.id && s.to === 'failed');
    await waitUntil(() => failures().length >= 2, 'two failed attempts', 20_000);
    const [first, second] = failures();
    expect(first).toMatchObject({
      permanent: false,
      reason: expect.stringMatching(/^AGENT_DOWNLOAD_FAILED: server refused blob [0-9a-f]{64}: NOT_FOUND/),
    });
    expect(Date.parse(first!.retryAt!)).toBeGreaterThanOrEqual(Date.parse(first!.at) + 150);
    expect(second!.seq).toBeGreaterThan(first!.seq);
    expect(t.agent.model?.version).toBe('1.0.0');
  } finally {
    env.h.blobs.set(missing, bytes);
  }
  await waitUntil(() => t.agent.model?.version === '2.0.0' && t.agent.state === 'idle', 'v2 installed once the blob is back', 20_000);
  // The reported state that follows the install says no update is in flight any more (it may trail the install).
  await waitUntil(
    () => (d.reported?.update ?? null) === null && d.reported?.model?.version === '2.0.0',
    'reported state without an update in flight',
    20_000,
  );
  await t.agent.close();
});

it('stops retrying a transient failure at the cap, until a new retry nonce', async () => {
  const t = await deviceOnV1(env.h, env.v1, 'capped', { updateRetry: { minMs: 100, maxMs: 100, maxAttempts: 2 } });
  const d = env.h.device(t.id);
  const missing = [...env.v2.blobs.keys()].find((k) => !env.v1.blobs.has(k) && k !== env.v2.ref.manifestDigest)!;
  const bytes = env.h.blobs.get(missing)!;
  env.h.blobs.delete(missing);
  const failures = () => d.statuses.filter((s) => s.bundleId === env.v2.ref.id && s.to === 'failed');
  try {
    await env.h.setDesired(t.id, env.v2.ref);
    await waitUntil(() => failures().length >= 2, 'two failed attempts');
    await t.agent.settled();
    // The second failure used the last attempt: transient, but no retry time, and no third attempt.
    expect(failures()[1]).toMatchObject({ permanent: false });
    expect(failures()[1]!.retryAt).toBeUndefined();
    expect(t.agent.updateRecord.lastFailed).toMatchObject({ permanent: false, attempts: 2, retryAt: null });
  } finally {
    env.h.blobs.set(missing, bytes);
  }
  expect(failures()).toHaveLength(2);
  // The operator's retry: a new nonce makes it a new request.
  await env.h.setDesired(t.id, env.v2.ref, {}, { bundle: null }, { retry: 1 });
  await waitUntil(() => t.agent.model?.version === '2.0.0' && t.agent.state === 'idle', 'v2 installed after the retry nonce');
  await t.agent.close();
});
