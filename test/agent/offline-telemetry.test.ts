// The real server goes away for two minutes (process stopped; same data folder and ports afterwards, as in a
// deploy) while a real agent keeps serving predictions: every prediction succeeds, windows queue on the
// agent's disk, and afterwards the server's store holds every window the agent produced exactly once.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent } from '@flotilla/edge-agent';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { restartServerProcess, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { sampleRow } from './harness/test-models.ts';
import { waitUntil } from './harness/wait.ts';
import { deviceFor, deviceRequests, serverBundle, serverKey, storedWindows } from './server-kit.ts';

/** Outage length; the issue asks for two minutes. FLOTILLA_OUTAGE_MS shortens it for a quick local look. */
const OUTAGE_MS = Number(process.env.FLOTILLA_OUTAGE_MS ?? 120_000);
const WINDOW_SEC = 2;
const ENV = { FLOTILLA_TELEMETRY_WINDOW_SEC: String(WINDOW_SEC) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Sequence numbers of the windows in the agent's on-disk queue (telemetry/windows/m-<seq>.json). */
const queuedOnDisk = (dataDir: string) =>
  readdirSync(join(dataDir, 'telemetry/windows'))
    .filter((f) => f.startsWith('m-'))
    .map((f) => Number(f.slice(2, -5)));

let srv: ServerHandle;
const agentDir = mkdtempSync(join(tmpdir(), 'agent-outage-'));

beforeAll(async () => {
  srv = await startServerProcess({ env: ENV });
});
afterAll(async () => {
  await srv?.dispose();
  rmSync(agentDir, { recursive: true, force: true });
});

it(
  `keeps serving through a ${OUTAGE_MS / 1000} s server outage and the server stores every window exactly once`,
  async () => {
    const bundle = await serverBundle(srv, 'outage-classifier');
    const device = await deviceFor(srv, bundle.id);
    const delays: number[] = [];
    // The agent knows only the server's URL: it asks for the broker address on every (re)connect [WIRE-3.3].
    const agent = await createAgent({
      deviceId: device.id,
      token: device.token,
      server: srv.url,
      dataDir: agentDir,
      trustedKeys: [await serverKey(srv)],
      backoff: { minMs: 250, maxMs: 4000 },
      log: (line) => {
        const m = /reconnecting in (\d+) ms/.exec(line);
        if (m) delays.push(Number(m[1]));
      },
    });
    const connection: boolean[] = [];
    agent.on('connection', (c) => connection.push(c.online));
    const produced: TelemetryWindow[] = [];
    agent.on('telemetry', (w) => produced.push(w));
    await waitUntil(() => agent.model?.version === bundle.version && agent.state === 'idle', 'the server bundle installed', 30_000);

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
        await sleep(20);
      }
    })();

    await sleep(3 * WINDOW_SEC * 1000);
    await waitUntil(() => produced.length >= 2 && agent.telemetryBacklog === 0, 'windows acknowledged before the outage', 20_000);
    const windowsBefore = produced.length;
    let answeredBefore = 0;
    let answeredDuringOutage = 0;
    let backlogDuringOutage = 0;
    srv = await restartServerProcess(srv, {
      env: ENV,
      whileDown: async () => {
        answeredBefore = answered;
        await sleep(OUTAGE_MS);
        answeredDuringOutage = answered - answeredBefore;
        backlogDuringOutage = agent.telemetryBacklog;
      },
    });
    await sleep(3 * WINDOW_SEC * 1000);
    stop = true;
    await load;
    // Close the last partial window, then wait until the server acknowledged everything.
    await agent.flushTelemetry();
    await waitUntil(() => agent.telemetryBacklog === 0, 'every window acknowledged', 60_000);
    // Windows and their hourly rollups are written in one transaction before the ack: the count is final.
    const requestsApi = await deviceRequests(srv, device.id);
    await agent.close();
    const kept = queuedOnDisk(agentDir);
    expect(await srv.stop()).toBe(0);

    expect(failed).toBe(0);
    expect(answeredDuringOutage).toBeGreaterThan(0);
    expect(backlogDuringOutage).toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / 1000 / WINDOW_SEC) - 1);
    expect(connection).toEqual([true, false, true, false]); // the last: close()
    // Reconnect delays grew from the minimum towards the cap, with jitter (equal jitter: in [ceiling/2, ceiling]).
    expect(delays.length).toBeGreaterThan(3);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    expect(Math.max(...delays)).toBeGreaterThan(1000);
    expect(new Set(delays).size).toBeGreaterThan(delays.length / 2);

    // The agent's windows are 0, 1, 2, ... and the server's store holds exactly those, each once.
    expect(produced.map((w) => w.seq)).toEqual(produced.map((_, i) => i));
    const stored = storedWindows(srv.dataDir, device.id);
    const seqs = stored.map((w) => w.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i)); // each once, no gaps
    // What the server has not stored is still queued on the agent's disk for its next start: the window
    // close() closed, and any a timer closed after the last ack, all empty (the load had stopped).
    const unsent = produced.filter((w) => !seqs.includes(w.seq));
    expect(unsent.length).toBeLessThanOrEqual(2);
    expect(unsent.every((w) => w.requests === 0 && kept.includes(w.seq))).toBe(true);
    expect(stored.map((w) => w.requests)).toEqual(produced.slice(0, stored.length).map((w) => w.requests));
    expect(stored.reduce((n, w) => n + w.requests, 0)).toBe(answered);
    expect(stored.reduce((n, w) => n + w.dropped, 0)).toBe(0);
    expect(stored.every((w) => w.errors === 0)).toBe(true);
    expect(requestsApi).toBe(answered);
    console.log(
      `outage ${OUTAGE_MS} ms: ${answered} predictions (${answeredDuringOutage} offline), ${stored.length} windows stored once each (${windowsBefore} before the outage), ${backlogDuringOutage} queued at the end of the outage`,
    );
  },
  OUTAGE_MS + 180_000,
);
