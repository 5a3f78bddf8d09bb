// The broker is stopped for two minutes while the agent serves predictions: every prediction succeeds,
// windows queue on disk, and afterwards every telemetry window is in the server's store exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HarnessServer } from './harness/harness-server.ts';
import { makeBundle } from './harness/test-bundles.ts';
import { sampleRow } from './harness/test-models.ts';
import { newDeviceId, startTestAgent } from './harness/agents.ts';
import { waitUntil } from './harness/wait.ts';

/** Outage length; the issue asks for two minutes. FLOTILLA_OUTAGE_MS shortens it for a quick local look. */
const OUTAGE_MS = Number(process.env.FLOTILLA_OUTAGE_MS ?? 120_000);
const WINDOW_SEC = 2;

let h: HarnessServer;
beforeAll(async () => {
  h = await HarnessServer.start();
});
afterAll(() => h.close());

it(`keeps serving through a ${OUTAGE_MS / 1000} s broker outage and delivers every window exactly once`, async () => {
  const id = newDeviceId('outage');
  const dev = h.addDevice(id);
  const v1 = await makeBundle({ version: '1.0.0', sequence: 1 });
  h.addBlobs(v1.blobs);
  await h.setDesired(id, v1.ref, { windowSec: WINDOW_SEC });
  const delays: number[] = [];
  const { agent } = await startTestAgent(h, id, {
    backoff: { minMs: 250, maxMs: 4000 },
    log: (line) => {
      const m = /reconnecting in (\d+) ms/.exec(line);
      if (m) delays.push(Number(m[1]));
    },
  });
  const connection: boolean[] = [];
  agent.on('connection', (c) => connection.push(c.online));
  await waitUntil(() => agent.model?.version === '1.0.0' && agent.state === 'idle', 'v1 installed');

  let answered = 0;
  let failed = 0;
  let stop = false;
  const row = sampleRow(16);
  const load = (async () => {
    while (!stop) {
      try {
        await agent.predict(row);
        answered++;
      } catch {
        failed++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  await new Promise((r) => setTimeout(r, 3 * WINDOW_SEC * 1000));
  await h.stopBroker();
  const answeredBefore = answered;
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  const backlogDuringOutage = agent.telemetryBacklog;
  const answeredDuringOutage = answered - answeredBefore;
  await h.startBroker();
  await new Promise((r) => setTimeout(r, 3 * WINDOW_SEC * 1000));
  stop = true;
  await load;
  // Close the last partial window, then wait until the server acknowledged everything.
  await agent.flushTelemetry();
  await waitUntil(() => agent.telemetryBacklog === 0, 'every window acknowledged', 60_000);
  await agent.close();

  expect(failed).toBe(0);
  expect(answeredDuringOutage).toBeGreaterThan(0);
  expect(backlogDuringOutage).toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / 1000 / WINDOW_SEC) - 1);
  expect(connection).toEqual([true, false, true, false]); // the last: close()
  // Reconnect delays grew from the minimum towards the cap, with jitter (equal jitter: in [ceiling/2, ceiling]).
  expect(delays.length).toBeGreaterThan(3);
  expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
  expect(Math.max(...delays)).toBeGreaterThan(1000);
  expect(new Set(delays).size).toBeGreaterThan(delays.length / 2);

  const seqs = [...dev.windows.keys()].sort((a, b) => a - b);
  expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  expect(seqs[0]).toBe(0);
  const stored = [...dev.windows.values()];
  expect(stored.reduce((n, w) => n + w.requests, 0)).toBe(answered);
  expect(stored.reduce((n, w) => n + w.dropped, 0)).toBe(0);
  expect(stored.every((w) => w.errors === 0)).toBe(true);
  console.log(`outage ${OUTAGE_MS} ms: ${answered} predictions (${answeredDuringOutage} offline), ${seqs.length} windows stored once each, ${dev.receipts.length - seqs.length} duplicate deliveries de-duplicated, ${backlogDuringOutage} queued at the end of the outage`);
}, OUTAGE_MS + 120_000);
