// What a window carries: classes, confidence, features on the reference bins, feedback, samples within the
// server's rate and budget, the server's window length; and a full offline queue reporting what it dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, type TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle, type TestBundle } from './harness/test-bundles.ts';
import { sampleRow } from './harness/test-models.ts';
import { newDeviceId, startTestAgent } from './harness/agents.ts';
import { waitUntil } from './harness/wait.ts';

let h: HarnessServer;
let bundle: TestBundle;
beforeAll(async () => {
  h = await HarnessServer.start();
  bundle = await makeBundle({
    version: '1.0.0',
    sequence: 1,
    extra: {
      // Raw rows in [-2, 2) are halved before the model sees them.
      preprocessing: { steps: [{ op: 'scale', params: { factor: 0.5 } }] },
      referenceProfile: {
        features: [
          { name: 'x0', index: 0, edges: [-1, 0, 1], frequencies: [0.5, 0.5] },
          // 16 values read as a 4×4 image: a summary feature on the same model input.
          { name: 'mean_brightness', edges: [-1, -0.5, 0, 0.5, 1], frequencies: [0.25, 0.25, 0.25, 0.25] },
        ],
      },
    },
  });
  h.addBlobs(bundle.blobs);
});
afterAll(() => h.close());

const sum = (windows: Iterable<TelemetryWindow>, f: (w: TelemetryWindow) => number) => [...windows].reduce((n, w) => n + f(w), 0);

describe('telemetry windows [WIRE-2.5]', () => {
  it('counts classes, confidence, features on the reference bins and feedback; samples with labels for retraining', async () => {
    const id = newDeviceId('telemetry');
    const d = h.addDevice(id);
    await h.setDesired(id, bundle.ref, { windowSec: 3600, sampleRate: 1, sampleBudgetBytes: 1_000_000 });
    const { agent } = await startTestAgent(h, id);
    await waitUntil(() => agent.model && agent.state === 'idle', 'installed');
    await agent.flushTelemetry();
    const before = d.windows.size;
    // Four rows of +1 and two of -1 (the model sees ±0.5), the first value ±1.5 (seen as ±0.75):
    // x0 lands in bins [<0, ≥0] as [2, 4]; the mean (±0.515) in bins 0 and 3 of mean_brightness.
    const rows = [...Array(6)].map((_, i) => new Array(16).fill(i < 4 ? 1 : -1).map((v, j) => (j === 0 ? v * 1.5 : v)));
    const preds = await Promise.all(rows.map((r) => agent.predict(r)));
    expect(agent.feedback(preds[0]!.predictionId, preds[0]!.top1)).toBe(true);
    expect(agent.feedback(preds[1]!.predictionId, ['cat', 'dog', 'bird'][(preds[1]!.top1 + 1) % 3]!)).toBe(true);
    expect(agent.feedback('nope', 1)).toBe(false);
    await agent.flushTelemetry();
    await waitUntil(() => d.windows.size > before && d.samples.size > 0, 'window and samples');
    const w = d.windows.get(Math.max(...d.windows.keys()))!;
    expect(w.requests).toBe(6);
    expect(w.model).toEqual({ name: 'classifier', version: '1.0.0', sequence: 1 });
    expect(sum([w], (x) => x.predictions.reduce((a, b) => a + b, 0))).toBe(6);
    expect(w.confidence.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(w.features.x0).toEqual([2, 4]);
    expect(w.features.mean_brightness).toEqual([2, 0, 0, 4]);
    expect(w.feedback).toMatchObject({ labelled: 2, correct: 1 });
    expect(w.feedback.byClass!.labelled.reduce((a, b) => a + b, 0)).toBe(2);
    const items = [...d.samples.values()].flatMap((s) => s.items);
    expect(items).toHaveLength(6);
    const first = items.find((i) => i.predictionId === preds[0]!.predictionId)!;
    expect(first.label).toBe(preds[0]!.top1);
    // [WIRE-2.12.1] agent.feedback is the embedding app's: its labels say so; unlabelled samples say nothing.
    expect(first.source).toBe('app');
    expect(items.filter((i) => i.label === null).every((i) => i.source === undefined)).toBe(true);
    expect(Array.from(new Float32Array(fromBase64(first.input)!.buffer))).toEqual(rows[0]);
    expect(first.shape).toEqual([16]);
    // A label that arrives after its window closed still reaches the server, on the sample sent again.
    expect(agent.feedback(preds[2]!.predictionId, 0)).toBe(true);
    await agent.flushTelemetry();
    await waitUntil(
      () => [...d.samples.values()].flatMap((s) => s.items).some((i) => i.predictionId === preds[2]!.predictionId && i.label === 0),
      'late label',
    );
    await agent.close();
  });

  it('counts a malformed request as a client error, not as a request the model failed [WIRE-2.5.2]', async () => {
    const id = newDeviceId('client-errors');
    const d = h.addDevice(id);
    await h.setDesired(id, bundle.ref, { windowSec: 3600 });
    const { agent } = await startTestAgent(h, id);
    await waitUntil(() => agent.model && agent.state === 'idle', 'installed');
    await agent.flushTelemetry();
    const before = d.windows.size;
    for (let i = 0; i < 3; i++) await agent.predict(sampleRow(16, i));
    await expect(agent.predict([1, 2, 3])).rejects.toMatchObject({ code: 'AGENT_INPUT_INVALID' });
    await expect(agent.predictBatch([sampleRow(16, 1), [1]])).rejects.toMatchObject({ code: 'AGENT_INPUT_INVALID' });
    await agent.flushTelemetry();
    await waitUntil(() => d.windows.size > before, 'window');
    const w = d.windows.get(Math.max(...d.windows.keys()))!;
    expect({ requests: w.requests, errors: w.errors, clientErrors: w.clientErrors }).toEqual({ requests: 3, errors: 0, clientErrors: 3 });
    await agent.close();
  });

  it('samples within the byte budget and follows the window length the server sets', async () => {
    const id = newDeviceId('budget');
    const d = h.addDevice(id);
    await h.setDesired(id, bundle.ref, { windowSec: 3600, sampleRate: 1, sampleBudgetBytes: 600 });
    const { agent } = await startTestAgent(h, id);
    await waitUntil(() => agent.model && agent.state === 'idle', 'installed');
    for (let i = 0; i < 20; i++) await agent.predict(sampleRow(16, i));
    await agent.flushTelemetry();
    await waitUntil(() => d.samples.size > 0, 'samples');
    const items = [...d.samples.values()].flatMap((s) => s.items);
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThan(20);
    // Short windows from the server: windows keep closing on their own.
    const n = d.windows.size;
    await h.setDesired(id, bundle.ref, { windowSec: 0.2, sampleRate: 0, sampleBudgetBytes: 0 });
    await waitUntil(() => d.windows.size >= n + 3, 'short windows from the server');
    // Back to an hour: no window closes by itself any more.
    await h.setDesired(id, bundle.ref, { windowSec: 3600 });
    await new Promise((r) => setTimeout(r, 400));
    const settled = d.windows.size;
    await new Promise((r) => setTimeout(r, 800));
    expect(d.windows.size).toBe(settled);
    await agent.close();
  });

  it('keeps at most maxQueuedWindows while offline and reports how many it dropped', async () => {
    const id = newDeviceId('dropper');
    const d = h.addDevice(id);
    // Windows close only when the test says (no timer): how many are made offline does not depend on load.
    await h.setDesired(id, bundle.ref, { windowSec: 3600 });
    const { agent } = await startTestAgent(h, id, { telemetry: { maxQueuedWindows: 3 } });
    await waitUntil(() => agent.model && agent.state === 'idle', 'installed');
    await agent.flushTelemetry();
    await waitUntil(() => d.windows.size > 0 && agent.telemetryBacklog === 0, 'reporting');
    await h.stopBroker();
    await waitUntil(() => !agent.online, 'offline');
    const top = Math.max(...d.windows.keys());
    // Six windows offline into a queue of three: the three oldest are dropped and counted.
    for (let i = 0; i < 6; i++) await agent.flushTelemetry();
    expect(agent.telemetryBacklog).toBe(3);
    await h.startBroker();
    await waitUntil(() => agent.online && agent.telemetryBacklog === 0, 'queue drained');
    await agent.close();
    const seqs = [...d.windows.keys()].sort((a, b) => a - b);
    const missing = seqs.at(-1)! + 1 - seqs.length;
    expect(missing).toBe(3);
    // Every window that never arrived is counted in the `dropped` of a window that did.
    expect(sum(d.windows.values(), (w) => w.dropped)).toBe(missing);
    // The three newest offline windows were kept (a window closed after the reconnect may follow them).
    expect(seqs.filter((s) => s > top).slice(0, 3)).toEqual([top + 4, top + 5, top + 6]);
  });
});
