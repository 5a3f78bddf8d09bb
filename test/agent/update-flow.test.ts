// The update flow end to end against the harness: install, delta, hostile bundles, rollbacks, transports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueChunks, parseManifest } from '@flotilla/firmware-bundler';
import { decodeEnvelope } from '@flotilla/firmware-bundler/wire';
import { createAgent } from '@flotilla/edge-agent';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { rogueSigner, TRUSTED_HEX } from './harness/test-keys.ts';
import { sampleRow } from './harness/test-models.ts';
import { newDeviceId, path, startTestAgent, type TestAgent } from './harness/agents.ts';
import { waitUntil } from './harness/wait.ts';
import { deviceOnV1, HAPPY, harnessWithTwoVersions } from './harness/two-versions.ts';

const ROW = sampleRow(16, 7);

let h: HarnessServer;
let v1: TestBundle;
let v2: TestBundle;
beforeAll(async () => {
  ({ h, v1, v2 } = await harnessWithTwoVersions());
});
afterAll(() => h.close());

const chunkDigests = (b: TestBundle) =>
  uniqueChunks(parseManifest(decodeEnvelope(b.blobs.get(b.ref.manifestDigest)!)!.manifestBytes)).map((c) => c.digest);

/** A device that runs v1, installed over MQTT. */
const onV1 = (label: string, o = {}) => deviceOnV1(h, v1, label, o);

/** Waits until the device reported the update as finished (back to idle) `n` times. */
const finished = (t: TestAgent, n = 1) => waitUntil(() => t.states.filter((s) => s.to === 'idle').length >= n, `${n} finished update(s)`);

describe('installing and updating', () => {
  it('installs the desired bundle, reports every state change with a reason, and serves it', async () => {
    const t = await onV1('install');
    expect(path(t.states)).toBe(HAPPY);
    expect(t.states.every((s) => s.reason.length > 0 && s.bundleId === v1.ref.id)).toBe(true);
    const d = h.device(t.id);
    await waitUntil(() => d.statuses.length === 7 && d.reported?.state === 'idle', 'status events and reported state at the server');
    expect(d.statuses.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(d.reported).toMatchObject({
      state: 'idle',
      model: { name: 'classifier', version: '1.0.0', sequence: 1 },
      bundleId: v1.ref.id,
      lastError: null,
    });
    const p = await t.agent.predict(ROW);
    expect(p).toMatchObject({ model: { name: 'classifier', version: '1.0.0' }, top1: expect.any(Number) });
    expect(p.outputs.y).toHaveLength(3);
    expect(p.label).toBe(['cat', 'dog', 'bird'][p.top1]);
    const batch = await t.agent.predictBatch([ROW, ROW.map((v) => -v), ROW]);
    expect(batch.predictions.map((q) => q.top1)).toEqual([p.top1, expect.any(Number), p.top1]);
    expect(Array.from(batch.predictions[0]!.outputs.y!)).toEqual(Array.from(p.outputs.y!).map((v) => expect.closeTo(v, 5)));
    const flat = await t.agent.predictBatch(Float32Array.from([...ROW, ...ROW]));
    expect(flat.predictions).toHaveLength(2);
    await t.agent.close();
  });

  it('fetches only the chunks it lacks, and the app never sees a failed call or a half-loaded model', async () => {
    const t = await onV1('delta');
    const d = h.device(t.id);
    d.served.clear();
    const seen = new Set<string>();
    let failures = 0;
    let sawV2 = false;
    let regressions = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const p = await t.agent.predict(ROW);
          seen.add(p.model.version);
          if (p.model.version === '2.0.0') sawV2 = true;
          else if (sawV2) regressions++;
        } catch {
          failures++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const modelEvents: unknown[] = [];
    t.agent.on('model', (m) => modelEvents.push(m));
    await h.setDesired(t.id, v2.ref);
    await finished(t, 2);
    stop = true;
    await load;
    expect(t.agent.model?.version).toBe('2.0.0');
    expect(failures).toBe(0);
    expect(regressions).toBe(0);
    expect(seen).toEqual(new Set(['1.0.0', '2.0.0']));
    expect(modelEvents).toEqual([
      { model: { name: 'classifier', version: '2.0.0', sequence: 2 }, previous: { name: 'classifier', version: '1.0.0', sequence: 1 } },
    ]);
    const shared = chunkDigests(v2).filter((c) => chunkDigests(v1).includes(c));
    expect(shared.length).toBeGreaterThan(chunkDigests(v2).length / 2);
    for (const c of shared) expect(d.served.has(c), `shared chunk ${c.slice(0, 8)} fetched again`).toBe(false);
    expect([...d.served.keys()].length).toBe(chunkDigests(v2).length - shared.length + 1);
    expect(t.states.findLast((s) => s.from === 'downloading')!.reason).toMatch(new RegExp(`reused ${shared.length}`));
    await t.agent.close();
  });

  it('rejects a tampered chunk and fetches it again; survives BUSY answers', async () => {
    const t = await onV1('tamper');
    const target = chunkDigests(v2).find((c) => !chunkDigests(v1).includes(c))!;
    h.tamper.set(target, 2);
    h.busyResponses = 3;
    const rejected: string[] = [];
    t.agent.on('rejected', (r) => rejected.push(r.digest));
    await h.setDesired(t.id, v2.ref);
    await finished(t, 2);
    expect(t.agent.model?.version).toBe('2.0.0');
    expect(rejected).toEqual([target, target]);
    expect(h.device(t.id).served.get(target)).toBe(3);
    expect(t.states.findLast((s) => s.from === 'downloading')!.reason).toMatch(/rejected and refetched 2/);
    await t.agent.close();
  });
});

describe('refusing bad bundles (v1 keeps serving, the refusal is reported)', () => {
  const cases: [string, () => Promise<TestBundle>, RegExp][] = [
    ['signed by an unknown key', () => makeBundle({ version: '3.0.0', sequence: 3, signer: rogueSigner }), /^BUNDLE_KEY_UNTRUSTED/],
    [
      'expired',
      () =>
        makeBundle({
          version: '3.0.0',
          sequence: 3,
          createdAt: new Date(Date.now() - 7200_000),
          expiresAt: new Date(Date.now() - 3600_000),
        }),
      /^BUNDLE_EXPIRED/,
    ],
    ['older than the active one', () => makeBundle({ version: '0.9.0', sequence: 1, model: { headSeed: 9 } }), /^BUNDLE_ROLLBACK/],
    [
      'needing a newer agent',
      () => makeBundle({ version: '3.0.0', sequence: 3, extra: { runtime: { minAgentVersion: '9.0.0' } } }),
      /^BUNDLE_RUNTIME_INCOMPATIBLE/,
    ],
    [
      'with a preprocessing op this agent lacks',
      () => makeBundle({ version: '3.0.0', sequence: 3, extra: { preprocessing: { steps: [{ op: 'fft' }] } } }),
      /^BUNDLE_RUNTIME_INCOMPATIBLE/,
    ],
  ];
  it.each(cases)('refuses a bundle %s before downloading its chunks', async (_name, make, code) => {
    const bad = await make();
    h.addBlobs(bad.blobs);
    const t = await onV1('refuse');
    const d = h.device(t.id);
    d.served.clear();
    await h.setDesired(t.id, bad.ref);
    await finished(t, 2);
    expect(path(t.states.slice(7))).toBe('idle→downloading downloading→failed failed→idle');
    expect(t.states[8]!.reason).toMatch(code);
    expect([...d.served.keys()]).toEqual([bad.ref.manifestDigest]);
    expect(t.agent.model?.version).toBe('1.0.0');
    await waitUntil(
      () => d.reported?.lastError && code.test(d.reported.lastError) && d.statuses.some((s) => s.to === 'failed' && code.test(s.reason)),
      'refusal reported',
    );
    expect((await t.agent.predict(ROW)).model.version).toBe('1.0.0');
    await t.agent.close();
  });

  it('refetches a tampered envelope, refuses a blob that is no envelope, and a manifest that is not the one desired', async () => {
    const t = await onV1('envelope');
    // Named digest of something that is not an envelope (here: one of v2's chunks).
    await h.setDesired(t.id, { ...v2.ref, manifestDigest: chunkDigests(v2)[0]! });
    await finished(t, 2);
    expect(t.states[8]!.reason).toMatch(/^AGENT_ENVELOPE_INVALID/);
    // The right envelope, but the desired state names another version.
    await h.setDesired(t.id, { ...v2.ref, version: '2.0.1' });
    await finished(t, 3);
    expect(t.states.at(-2)!.reason).toMatch(/^AGENT_BUNDLE_MISMATCH/);
    // Tampered in transit once: rejected, fetched again, installed.
    const rejected: string[] = [];
    t.agent.on('rejected', (r) => rejected.push(r.digest));
    h.tamper.set(v2.ref.manifestDigest, 1);
    await h.setDesired(t.id, v2.ref);
    await finished(t, 4);
    expect(rejected).toEqual([v2.ref.manifestDigest]);
    expect(t.agent.model?.version).toBe('2.0.0');
    await t.agent.close();
  });

  it('rolls back a model that fails its self-test and does not retry it', async () => {
    const bad = await makeBundle({ version: '3.0.0', sequence: 3, selfTest: 'fail', model: { headSeed: 11 } });
    h.addBlobs(bad.blobs);
    const t = await onV1('selftest');
    await h.setDesired(t.id, bad.ref);
    await finished(t, 2);
    expect(path(t.states.slice(7))).toBe(
      'idle→downloading downloading→verifying verifying→staging staging→activating activating→probing probing→rolling_back rolling_back→failed failed→idle',
    );
    expect(t.states.findLast((s) => s.from === 'probing')!.reason).toMatch(/^AGENT_SELF_TEST_FAILED/);
    expect(t.agent.model?.version).toBe('1.0.0');
    // The same desired state again (a new rev) does not start the same failing update again.
    await h.setDesired(t.id, bad.ref, { windowSec: 30 });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.states).toHaveLength(15);
    // Restarting serves v1 straight from its slot, and still does not retry.
    await t.agent.close();
    const again = await startTestAgent(h, t.id, { dataDir: t.dataDir });
    expect(again.agent.model?.version).toBe('1.0.0');
    await again.agent.settled();
    expect(again.states).toEqual([]);
    await again.agent.close();
  });
});

describe('operator rollback, sideload, transports and hostile messages', () => {
  it('returns to an older bundle only on an explicit rollback order for a bundle it ran before [WIRE-2.2]', async () => {
    const t = await onV1('rollback');
    await h.setDesired(t.id, v2.ref);
    await finished(t, 2);
    await h.setDesired(t.id, v1.ref);
    await finished(t, 3);
    expect(t.states.at(-2)!.reason).toMatch(/^BUNDLE_ROLLBACK/);
    await h.setDesired(t.id, { ...v1.ref, rollback: true });
    await finished(t, 4);
    expect(t.agent.model?.version).toBe('1.0.0');
    await t.agent.close();
  });

  it('installs a local bundle file offline through the same verified flow', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const agent = await createAgent({
      deviceId: 'offline-1',
      offline: true,
      dataDir: mkdtempSync(join(tmpdir(), 'agent-off-')),
      trustedKeys: [TRUSTED_HEX],
    });
    await expect(agent.predict(ROW)).rejects.toMatchObject({ code: 'AGENT_NO_MODEL' });
    const rogue = await makeBundle({ version: '1.0.0', sequence: 1, signer: rogueSigner });
    expect(await agent.install(rogue.bytes)).toMatchObject({
      ok: false,
      model: null,
      reason: expect.stringMatching(/^BUNDLE_KEY_UNTRUSTED/),
    });
    expect(await agent.install(v1.bytes)).toMatchObject({ ok: true, model: { version: '1.0.0' } });
    expect(await agent.install(v2.bytes)).toMatchObject({ ok: true, model: { version: '2.0.0' } });
    const corrupt = v2.bytes.slice();
    corrupt[corrupt.length - 1]! ^= 1;
    await expect(agent.install(corrupt)).rejects.toMatchObject({ code: 'BUNDLE_CHUNK_CORRUPT' });
    expect((await agent.predict(ROW)).model.version).toBe('2.0.0');
    await agent.close();
  });

  it('learns the broker from the server and fetches chunks over HTTP, resuming a cut-off body with Range', async () => {
    const id = newDeviceId('http');
    const d = h.addDevice(id);
    const big = await makeBundle({ version: '1.0.0', sequence: 1, model: { inputs: 64, hidden: 128, seed: 21 }, avgChunkSize: 8192 });
    h.addBlobs(big.blobs);
    await h.setDesired(id, big.ref);
    h.httpRequests.length = 0;
    h.httpCutAfter = 3000;
    const t = await startTestAgent(h, id, { mqttUrl: undefined, server: h.httpUrl, blobTransport: 'http' });
    await waitUntil(() => t.agent.model?.version === '1.0.0' && t.agent.state === 'idle', 'installed over HTTP');
    h.httpCutAfter = null;
    expect(h.httpRequests.some((r) => r.range !== null && /^bytes=\d+-$/.test(r.range))).toBe(true);
    expect(d.served.size).toBe(0);
    expect((await t.agent.predict(sampleRow(64))).model.version).toBe('1.0.0');
    await t.agent.close();
  });

  it('drops malformed and hostile messages and keeps working [WIRE-2.1]', async () => {
    const t = await onV1('hostile');
    const { connect } = await import('mqtt');
    const d = h.device(t.id);
    // Another device may not publish into this device's subtree (the broker refuses) …
    const other = h.addDevice(newDeviceId('intruder'));
    const intruder = connect(h.mqttUrl, {
      clientId: [...h.devices.entries()].find(([, v]) => v === other)![0],
      username: [...h.devices.entries()].find(([, v]) => v === other)![0],
      password: other.token,
      reconnectPeriod: 0,
    });
    await new Promise((r) => intruder.once('connect', r));
    intruder.publish(
      `flotilla/v1/devices/${t.id}/desired`,
      JSON.stringify({
        v: 1,
        rev: 99,
        bundle: null,
        telemetry: { windowSec: 1, sampleRate: 0, sampleBudgetBytes: 0 },
        shadow: null,
        issuedAt: 'x',
      }),
    );
    intruder.end();
    // … and what the broker does deliver is validated: garbage in every subscribed topic.
    const { deviceTopic } = await import('@flotilla/firmware-bundler/wire');
    const aedesPublish = (leaf: 'desired' | 'ack' | 'chunks/res', payload: Buffer) =>
      (h as unknown as { publish(t: string, p: Buffer): Promise<void> }).publish(deviceTopic(h.prefix, t.id, leaf), payload);
    await aedesPublish('desired', Buffer.from('{"v":2}'));
    await aedesPublish('desired', Buffer.from([0xff, 0xfe]));
    await aedesPublish('ack', Buffer.from('{"v":1,"kind":"telemetry","seqs":"all"}'));
    await aedesPublish('chunks/res', Buffer.from([0, 200, 1, 2]));
    await new Promise((r) => setTimeout(r, 200));
    expect(t.agent.model?.version).toBe('1.0.0');
    expect(t.states).toHaveLength(7);
    await h.setDesired(t.id, v2.ref);
    await finished(t, 2);
    expect(t.agent.model?.version).toBe('2.0.0');
    void d;
    await t.agent.close();
  });
});
