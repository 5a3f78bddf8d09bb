// `npm run bench -- telemetry`: telemetry windows ingested per second with drift computed, and the
// end-to-end lag from a window's creation to its drift verdict, into a real SQLite file and, side by side
// in the same run, a real PostgreSQL database (a throwaway local cluster) when PostgreSQL is installed.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { openDb } from '../store/sqlite/db.ts';
import { MonitoringService, type IngestItem } from '../monitoring/monitoring-service.ts';
import { SqliteTelemetryStore } from '../store/sqlite/sqlite-telemetry-store.ts';
import type { TelemetryStore } from '../monitoring/telemetry-store.ts';
import { openPool } from '../store/postgres/pg-db.ts';
import { PostgresTelemetryStore } from '../store/postgres/postgres-telemetry-store.ts';
import { postgresBinDir, startPostgres } from '../store/postgres/temp-cluster.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { simulatedReference, simulateWindow } from '../monitoring/telemetry-sim.ts';
import type { BenchOptions, BenchReport } from './bench-types.ts';

/** The goal, windows per second. */
const GOAL = 5000;
const BATCH = 500;
const FEATURES = 10;
/** Distinct window contents; reused under other device ids and seqs, since content does not change the cost. */
const TEMPLATES = 1000;
const REGIONS = 10;
const HARDWARE = 3;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};
const round = (x: number, d = 1) => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Backend {
  store: TelemetryStore;
  /** Bytes the back end holds for the telemetry written, when measurable. */
  bytes(): Promise<number | null>;
  close(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-telemetry-'));
  const dbPath = join(dir, 'telemetry.db');
  const db = openDb(dbPath);
  return {
    store: new SqliteTelemetryStore(db),
    bytes: async () => statSync(dbPath).size + (statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0),
    async close() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const cluster = await startPostgres();
  const pool = openPool(await cluster.createDatabase('bench_telemetry'));
  return {
    store: await PostgresTelemetryStore.open(pool),
    bytes: async () => Number((await pool.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]!.b),
    async close() {
      await pool.end();
      await cluster.stop();
    },
  };
}

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const sqlite = await measure(opts, 'sqlite', await sqliteBackend());
  const postgres = postgresBinDir() ? await measure(opts, 'postgres', await postgresBackend()) : null;
  if (!postgres) log('telemetry: PostgreSQL is not installed (apt-get install postgresql): measuring SQLite only');
  // Flat figures (the bench registry prints them as one JSON object): SQLite's as before, PostgreSQL's prefixed.
  const figures: Record<string, string | number | boolean> = { backend: 'sqlite', postgresMeasured: postgres !== null };
  for (const [k, v] of Object.entries(sqlite.figures)) if (v !== null) figures[k] = v;
  for (const [k, v] of Object.entries(postgres?.figures ?? {})) if (v !== null) figures[`postgres${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
  const pgPart = postgres
    ? `\n\n### PostgreSQL, same workload, same run\n\n${postgres.markdown}`
    : '\n\nPostgreSQL was not installed, so only SQLite was measured.';
  const markdown = `${sqlite.markdown}${pgPart}

Each window is schema-checked, stored once per (device, seq) in one transaction per batch, added to its
hourly rollups (fleet, both cohorts, device), and tested for drift on 10 features, predictions and
confidence in both cohorts (PSI, Jensen-Shannon, χ² with Benjamini-Hochberg), all on one core. Lag is from
a window's creation to the end of the ingest call that gave its drift verdict, with windows batched by up
to ${BATCH} or 100 ms. PostgreSQL runs as a local throwaway cluster on the same 2 cores (fsync off, as a
test cluster), reached over TCP on 127.0.0.1: a production server on its own machine adds network
round trips and durable commits, and takes the database's CPU off the ingesting process's cores.`;
  return { name: 'telemetry', figures, markdown };
}

async function measure(
  opts: BenchOptions,
  label: string,
  backend: Backend,
): Promise<{ figures: Record<string, number | boolean | null>; markdown: string }> {
  const log = opts.log ?? (() => {});
  const devices = opts.quick ? 2000 : 10_000;
  const rounds = opts.quick ? 1 : 3;
  const lagSeconds = opts.quick ? 1 : 4;
  try {
    const rng = seededRandom(42);
    const sim = simulatedReference(rng, FEATURES);
    const service = await MonitoringService.open({ store: backend.store });
    await service.setReference('cam@1.0.0', { features: sim.features }, sim.labels, {
      predictions: sim.predictions,
      confidence: sim.confidence,
    });
    const now = Date.now();
    const templates: TelemetryWindow[] = Array.from({ length: TEMPLATES }, (_, i) =>
      simulateWindow(rng, sim, {
        seq: 0,
        start: new Date(now),
        requests: 200 + Math.floor(rng() * 200),
        feedback: { labelledShare: 0.05, accuracy: 0.9 + (i % 2) * 0.01 },
      }),
    );
    // Every device is in two cohorts (a region and a hardware tag), so each window feeds two drift detectors.
    const item = (device: number, seq: number, start: number): IngestItem => {
      const t = templates[(device * 7 + seq) % TEMPLATES]!;
      return {
        deviceId: `dev-${device}`,
        cohorts: [`region-${device % REGIONS}`, `hw-${device % HARDWARE}`],
        window: { ...t, seq, start: new Date(start).toISOString(), end: new Date(start + 60_000).toISOString() },
      };
    };

    // Throughput: every device's windows for `rounds` minutes, in batches of 500, as fast as they go.
    const items: IngestItem[] = [];
    for (let r = 0; r < rounds; r++) for (let d = 0; d < devices; d++) items.push(item(d, r, now - (rounds + 2 - r) * 60_000));
    log(`telemetry (${label}): ingesting ${items.length} windows from ${devices} devices in batches of ${BATCH}`);
    const batchMs: number[] = [];
    let alerts = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < items.length; i += BATCH) {
      const b0 = performance.now();
      const res = await service.ingest(items.slice(i, i + BATCH));
      batchMs.push(performance.now() - b0);
      alerts += res.alertsRaised.length;
      if (res.accepted !== Math.min(BATCH, items.length - i))
        throw new Error(`bench: ${res.rejected.length} windows refused: ${res.rejected[0]?.reason}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const windowsPerSecond = items.length / seconds;
    // Windows per second of this process's CPU time: what one core does, whatever else the machine runs.
    const windowsPerCpuSecond = items.length / ((cpu.user + cpu.system) / 1e6);
    log(
      `telemetry (${label}): ${Math.round(windowsPerSecond)} windows/s wall, ${Math.round(windowsPerCpuSecond)} per CPU-second of this process`,
    );

    // Lag: windows created at a steady rate (half the measured throughput, capped at the goal), batched by
    // up to 500 windows or 100 ms as an MQTT handler would, ingested; lag = verdict time − creation time.
    const rate = Math.min(GOAL, windowsPerSecond / 2);
    const lags: number[] = [];
    let queue: { item: IngestItem; created: number }[] = [];
    let seq = rounds;
    let device = 0;
    let produced = 0;
    const started = performance.now();
    const producer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate) - produced;
      for (let i = 0; i < due; i++, produced++) {
        if (device === devices) [device, seq] = [0, seq + 1];
        queue.push({ item: item(device++, seq, now - 60_000), created: performance.now() });
      }
    }, 5);
    let lastFlush = performance.now();
    while (performance.now() - started < lagSeconds * 1000) {
      if (queue.length >= BATCH || (queue.length > 0 && performance.now() - lastFlush >= 100)) {
        const batch = queue.slice(0, BATCH);
        queue = queue.slice(batch.length);
        lastFlush = performance.now();
        await service.ingest(batch.map((q) => q.item));
        const done = performance.now();
        for (const q of batch) lags.push(done - q.created);
      } else {
        await sleep(2);
      }
    }
    clearInterval(producer);
    await service.close();
    const storedBytes = await backend.bytes();

    const figures = {
      windowsPerSecond: Math.round(windowsPerSecond),
      windowsPerCpuSecond: Math.round(windowsPerCpuSecond),
      goalWindowsPerSecond: GOAL,
      goalMet: windowsPerSecond >= GOAL,
      windows: items.length,
      devices,
      batchSize: BATCH,
      featuresPerWindow: FEATURES,
      cohortsPerWindow: 2,
      batchP50Ms: round(quantile(batchMs, 0.5)),
      batchP99Ms: round(quantile(batchMs, 0.99)),
      lagRatePerSecond: Math.round(rate),
      lagWindows: lags.length,
      lagP50Ms: round(quantile(lags, 0.5)),
      lagP99Ms: round(quantile(lags, 0.99)),
      dbBytesPerWindow: storedBytes === null ? null : Math.round(storedBytes / (items.length + lags.length)),
      alertsRaised: alerts,
    };
    const markdown = `| ${label} | value |
|---|---|
| windows ingested with drift computed | **${figures.windowsPerSecond.toLocaleString('en')} /s** (goal ${GOAL.toLocaleString('en')} /s: ${figures.goalMet ? 'met' : 'not met'}) |
| same, per second of the process's CPU time | ${figures.windowsPerCpuSecond.toLocaleString('en')} /s |
| workload | ${items.length.toLocaleString('en')} windows from ${devices.toLocaleString('en')} devices, batches of ${BATCH}, ${FEATURES} features × 10 bins, 2 cohorts each |
| batch of ${BATCH}: p50 / p99 | ${figures.batchP50Ms} / ${figures.batchP99Ms} ms |
| end-to-end lag at ${figures.lagRatePerSecond.toLocaleString('en')} windows/s: p50 / p99 | ${figures.lagP50Ms} / ${figures.lagP99Ms} ms |
| ${label === 'sqlite' ? 'SQLite file' : 'PostgreSQL database'} bytes per window (window + rollups) | ${figures.dbBytesPerWindow?.toLocaleString('en') ?? '-'} |`;
    return { figures, markdown };
  } finally {
    await backend.close();
  }
}
