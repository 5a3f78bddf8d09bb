// The soak: a real server process, a simulated fleet of honest agents with rollouts going round, and
// three attackers for the whole run; then whether the honest side lost anything and how the server held.
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { FleetSimulator } from '../../simulator/index.ts';
import { machineSummary } from '../machine.ts';
import { startBenchServer, type BenchServer } from '../rollout-server.ts';
import { rssBytes } from '../rollout-usage.ts';
import { hostileDevice, hostilePage, socketFlood, type Attacker, type AttackTally } from './attackers.ts';
import { HealthSampler } from './health-sampler.ts';
import { mnistLinearOnnx } from './soak-model.ts';

export interface SoakOptions {
  minutes: number;
  devices: number;
  /** Simulator worker processes. Default: one per core, at most 4. */
  processes?: number;
  /** Predictions per honest device per second. Default 0.2. */
  rate?: number;
  /** Telemetry window of the honest agents, s. Default 10. */
  windowSec?: number;
  /** Idle sockets the flood keeps open. Default 500. */
  floodSockets?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  machine: string;
  minutes: number;
  devices: number;
  server: { rssStartMiB: number; rssEndMiB: number; dbStartMiB: number; dbEndMiB: number };
  healthz: { samples: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Predictions the honest agents made, and the requests the server stored for them (counted by their windows). */
  honest: { predictions: number; storedRequests: number; backlogLeft: number };
  rollouts: { started: number; completed: number };
  attacks: Record<string, AttackTally>;
  /** Each goal of the soak, and whether it was met. */
  goals: { honestLostNothing: boolean; healthzP99Under500ms: boolean; rolloutsCompleted: boolean; serverMemoryFlat: boolean };
  passed: boolean;
}

const HONEST_TAG = 'soak';
const MiB = 2 ** 20;
/** One 100% stage without gates: the soak measures delivery under attack, not judgement. */
const DELIVERY_ONLY = {
  stages: [{ percent: 100, bakeSec: 0, gates: { minReporting: 0, maxErrorRate: null, maxConfidenceDrop: null, maxDriftScore: null, maxFailureRate: 1 } }],
  policy: { rate: { devicesPerMinute: 1_000_000 } },
};
/** Resident memory the server may gain over the run (caches warming, SQLite pages) and still count as flat. */
const RSS_SLACK_BYTES = 256 * MiB;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const srv = await startBenchServer();
  let sim: FleetSimulator | null = null;
  const attackers: Attacker[] = [];
  try {
    const bundles = await twoBundles(srv);
    log(`server ${srv.url}, MQTT ${srv.mqttUrl}; starting ${o.devices} honest agents`);
    sim = await FleetSimulator.start({
      server: srv.url, token: srv.token, mqttUrl: srv.mqttUrl, devices: o.devices, tags: [HONEST_TAG], rate: o.rate ?? 0.2,
      feedbackRate: 0.2, telemetryWindowSec: o.windowSec ?? 10, startConcurrency: 50,
      processes: o.processes ?? Math.min(4, availableParallelism()), log,
    });
    const hostile = (await srv.api('POST', '/api/v1/devices', { id: 'soak-hostile', tags: ['hostile'] })) as { id: string; token: string };
    const rssStart = rssBytes(srv.pid) ?? 0;
    const dbStart = databaseBytes(srv.dataDir);
    const health = new HealthSampler(srv.url);
    attackers.push(hostileDevice(srv.mqttUrl, hostile), hostilePage(srv.url), socketFlood(srv.mqttUrl, o.floodSockets ?? 500));
    log(`attack on for ${o.minutes} min: ${attackers.map((a) => a.name).join(', ')}`);
    const deadline = Date.now() + o.minutes * 60_000;
    const rollouts = await rolloutsUntil(srv, bundles, deadline, log);
    for (const a of attackers) await a.stop();
    await health.stop();
    const rssEnd = rssBytes(srv.pid) ?? 0;
    const dbEnd = databaseBytes(srv.dataDir);
    log('attack over; honest agents stop their traffic and deliver what they queued');
    await sim.quiesce();
    const honest = await honestAccount(srv, sim);
    const h = health.summary();
    const goals = {
      honestLostNothing: honest.backlogLeft === 0 && honest.storedRequests === honest.predictions,
      healthzP99Under500ms: h.failures === 0 && h.p99Ms < 500,
      rolloutsCompleted: rollouts.completed > 0,
      serverMemoryFlat: rssEnd - rssStart <= RSS_SLACK_BYTES,
    };
    return {
      machine: machineSummary(), minutes: o.minutes, devices: o.devices,
      server: { rssStartMiB: mib(rssStart), rssEndMiB: mib(rssEnd), dbStartMiB: mib(dbStart), dbEndMiB: mib(dbEnd) },
      healthz: h, honest, rollouts,
      attacks: Object.fromEntries(attackers.map((a) => [a.name, a.tally])),
      goals, passed: Object.values(goals).every(Boolean),
    };
  } finally {
    for (const a of attackers) await a.stop().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await srv.close();
  }
}

/** Two versions of a 784 → 10 model, bundled, so every rollout really moves the fleet to the other one. */
async function twoBundles(srv: BenchServer): Promise<string[]> {
  const ids: string[] = [];
  for (const seed of [1, 2]) {
    const version = await srv.registerOnnx('soak-model', mnistLinearOnnx(seed));
    ids.push(((await srv.api('POST', '/api/v1/bundles', { model: `soak-model@${version}`, version: `${seed}.0.0` })) as { id: string }).id);
  }
  return ids;
}

/** Rolls the honest fleet to one bundle and back until `deadline`; counts rollouts started and completed. */
async function rolloutsUntil(srv: BenchServer, bundles: string[], deadline: number, log: (l: string) => void) {
  let started = 0;
  let completed = 0;
  while (Date.now() < deadline) {
    const r = (await srv.api('POST', '/api/v1/rollouts', { bundle: bundles[started % 2], target: { tags: [HONEST_TAG] }, supersede: true, ...DELIVERY_ONLY })) as { id: string };
    started++;
    for (;;) {
      await new Promise((res) => setTimeout(res, 1000));
      const state = ((await srv.api('GET', `/api/v1/rollouts/${r.id}`)) as { state: string }).state;
      if (state === 'completed') {
        completed++;
        log(`rollout ${started} completed (${Math.round((deadline - Date.now()) / 1000)} s left)`);
        break;
      }
      if (state !== 'running' || Date.now() >= deadline) break;
    }
  }
  return { started, completed };
}

/** Waits (up to 90 s) for the agents' queues to empty and the server to count every honest request. */
async function honestAccount(srv: BenchServer, sim: FleetSimulator) {
  const predictions = () => Object.values(sim.cohorts()).reduce((n, c) => n + c.predictions, 0);
  const until = Date.now() + 90_000;
  let stored = 0;
  for (;;) {
    stored = await storedRequests(srv);
    if ((sim.backlog() === 0 && stored === predictions()) || Date.now() > until) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return { predictions: predictions(), storedRequests: stored, backlogLeft: sim.backlog() };
}

/** Requests in the honest cohort's rollups (every window of a device tagged `soak`). */
async function storedRequests(srv: BenchServer): Promise<number> {
  const from = new Date(Date.now() - 48 * 3600_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const r = (await srv.api('GET', `/api/v1/monitoring/series?scope=cohort&id=${HONEST_TAG}&metrics=requests&from=${from}&to=${to}`)) as { series: { points: { requests?: number }[] }[] };
  return r.series.reduce((n, s) => n + s.points.reduce((m, p) => m + (p.requests ?? 0), 0), 0);
}

/** Bytes of the server's SQLite files (databases with their WAL and shared-memory files). */
function databaseBytes(dataDir: string): number {
  return readdirSync(dataDir).filter((f) => /\.db(-wal|-shm)?$/.test(f)).reduce((n, f) => n + statSync(join(dataDir, f)).size, 0);
}

const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
