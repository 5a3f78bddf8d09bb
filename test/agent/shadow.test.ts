// Shadow models on a real agent [WIRE-2.2.1]: verified like an update, run after the serving answer,
// counted in the window (requests, errors, agreements, p95), never answering and never slowing the app.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxNodeRuntime, type InferenceRuntime, type ModelSession } from '@flotilla/edge-agent';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { referenceOutputs, sampleRow } from './harness/test-models.ts';
import { newDeviceId, startTestAgent } from './harness/agents.ts';
import { rogueSigner } from './harness/test-keys.ts';
import { waitUntil } from './harness/wait.ts';

const ROWS = [...Array(40)].map((_, i) => sampleRow(16, 1000 + i));
const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real runtime; sessions of `broken` model bytes sleep `delayMs` then throw on every run after the probe's first one. */
class BreakingRuntime implements InferenceRuntime {
  private readonly inner = new OnnxNodeRuntime();
  readonly name = this.inner.name;
  readonly executionProviders = this.inner.executionProviders;
  readonly maxOpset = this.inner.maxOpset;
  constructor(
    private readonly broken: string,
    private readonly delayMs: number,
  ) {}
  async load(bytes: Uint8Array): Promise<ModelSession> {
    const s = await this.inner.load(bytes);
    if (digest(bytes) !== this.broken) return s;
    let runs = 0;
    const delayMs = this.delayMs;
    return {
      inputs: s.inputs,
      outputNames: s.outputNames,
      release: () => s.release(),
      async run(feeds) {
        if (runs++ === 0) return s.run(feeds);
        await sleep(delayMs);
        throw new Error('shadow kernel crashed');
      },
    };
  }
}

let h: HarnessServer;
let serving: TestBundle;
let same: TestBundle;
let otherHead: TestBundle;
let rogue: TestBundle;
beforeAll(async () => {
  h = await HarnessServer.start();
  serving = await makeBundle({ version: '1.0.0', sequence: 1 });
  same = await makeBundle({ version: '1.1.0', sequence: 2 });
  otherHead = await makeBundle({ version: '2.0.0', sequence: 3, model: { headSeed: 77 } });
  rogue = await makeBundle({ version: '3.0.0', sequence: 4, signer: rogueSigner });
  for (const b of [serving, same, otherHead, rogue]) h.addBlobs(b.blobs);
});
afterAll(() => h.close());

async function deviceWithShadow(shadow: TestBundle | null, o: { rate?: number; runtime?: InferenceRuntime } = {}) {
  const id = newDeviceId('shadow');
  const d = h.addDevice(id);
  await h.setDesired(id, serving.ref, { windowSec: 3600 }, { bundle: shadow?.ref ?? null, rate: o.rate });
  const t = await startTestAgent(h, id, o.runtime ? { runtime: o.runtime } : {});
  await waitUntil(() => t.agent.model && t.agent.state === 'idle', 'serving 1.0.0');
  if (shadow) await waitUntil(() => t.agent.shadowModel, 'shadow loaded');
  return { id, d, ...t };
}

/** Flushes windows until their shadow requests add up to `n`; returns the summed shadow figures. */
async function shadowTotals(agent: { flushTelemetry(): Promise<void> }, d: { windows: Map<number, TelemetryWindow> }, n: number) {
  const total = () =>
    [...d.windows.values()].reduce(
      (acc, w) => ({
        requests: acc.requests + (w.shadow?.requests ?? 0),
        errors: acc.errors + (w.shadow?.errors ?? 0),
        agreements: acc.agreements + (w.shadow?.agreements ?? 0),
      }),
      { requests: 0, errors: 0, agreements: 0 },
    );
  await waitUntil(
    async () => {
      await agent.flushTelemetry();
      return total().requests >= n;
    },
    `${n} shadow requests reported`,
    10_000,
    100,
  );
  return total();
}

describe('shadow model [WIRE-2.2.1]', () => {
  it('an identical shadow agrees on every call; the app gets the serving model, and the window names the shadow', async () => {
    const { agent, d } = await deviceWithShadow(same);
    expect(agent.shadowModel).toEqual({ name: 'classifier', version: '1.1.0', sequence: 2 });
    for (const row of ROWS) {
      expect((await agent.predict(row)).model.version).toBe('1.0.0');
      // Paced like app traffic: back-to-back calls past four shadow runs in flight are not sampled.
      await sleep(10);
    }
    const t = await shadowTotals(agent, d, ROWS.length);
    expect(t).toEqual({ requests: ROWS.length, errors: 0, agreements: ROWS.length });
    const w = [...d.windows.values()].find((x) => x.shadow)!;
    expect(w.shadow!.model).toEqual({ name: 'classifier', version: '1.1.0', sequence: 2 });
    expect(w.shadow!.latencyP95Ms).toBeGreaterThan(0);
    expect(w.model?.version).toBe('1.0.0');
    await agent.close();
  });

  it('a shadow with another head counts exactly the rows whose top-1 differs', async () => {
    const { agent, d } = await deviceWithShadow(otherHead);
    let expected = 0;
    for (const row of ROWS) {
      const p = await agent.predict(row);
      const shadowTop1 = argmax(await referenceOutputs(otherHead.model, row));
      expect(p.top1).toBe(argmax(await referenceOutputs(serving.model, row)));
      if (shadowTop1 === p.top1) expected++;
    }
    expect(expected).toBeLessThan(ROWS.length);
    const t = await shadowTotals(agent, d, ROWS.length);
    expect(t).toEqual({ requests: ROWS.length, errors: 0, agreements: expected });
    await agent.close();
  });

  it('a slow shadow that throws is counted as errors and never touches the answer or its latency', async () => {
    const runtime = new BreakingRuntime(digest(otherHead.model), 300);
    const { agent, d } = await deviceWithShadow(otherHead, { runtime });
    for (const row of ROWS.slice(0, 8)) {
      const p = await agent.predict(row);
      expect(p.model.version).toBe('1.0.0');
      expect(p.top1).toBe(argmax(await referenceOutputs(serving.model, row)));
      expect(p.latencyMs).toBeLessThan(150);
      await sleep(80);
    }
    // Four runs at once at most: beyond that the slow shadow is sampled down, not queued.
    const t = await shadowTotals(agent, d, 4);
    expect(t.errors).toBe(t.requests);
    expect(t.agreements).toBe(0);
    expect(t.requests).toBeLessThanOrEqual(8);
    await agent.close();
  });

  it('shadowRate 0 loads but runs nothing; removing the shadow unloads it', async () => {
    const { agent, d, id } = await deviceWithShadow(same, { rate: 0 });
    for (const row of ROWS.slice(0, 10)) await agent.predict(row);
    await sleep(50);
    await agent.flushTelemetry();
    await waitUntil(() => d.windows.size > 0, 'a window');
    expect([...d.windows.values()].every((w) => w.shadow === null)).toBe(true);
    const gone = agent.once('shadow', (e) => e.model === null);
    await h.setDesired(id, serving.ref, {}, { bundle: null });
    await gone;
    expect(agent.shadowModel).toBeNull();
    expect((await agent.predict(ROWS[0]!)).model.version).toBe('1.0.0');
    await agent.close();
  });

  it('a shadow signed by an untrusted key is refused like an update; serving goes on', async () => {
    const id = newDeviceId('shadow');
    h.addDevice(id);
    await h.setDesired(id, serving.ref, { windowSec: 3600 }, { bundle: rogue.ref });
    const { agent } = await startTestAgent(h, id);
    const refused = await agent.once('shadow', (e) => e.error !== undefined);
    expect(refused.error!.code).toBe('BUNDLE_KEY_UNTRUSTED');
    await waitUntil(() => agent.model && agent.state === 'idle', 'serving 1.0.0');
    expect(agent.shadowModel).toBeNull();
    expect((await agent.predict(ROWS[0]!)).model.version).toBe('1.0.0');
    await agent.close();
  });
});
