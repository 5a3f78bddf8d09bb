// The soak: a real server process, a simulated fleet of honest agents with rollouts going round, and
// three attackers for the whole run; then whether the honest side lost anything and how the server held.
// Whatever goes wrong after the server started (an API call failing, the server dying), the report is
// still made: the goal it touches is marked missed and the cause is in `problems`.
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { FleetSimulator } from '../../simulator/index.ts';
import { machineSummary } from '../machine.ts';
import { DELIVERY_ONLY, startBenchServer, type BenchServer } from '../rollout-server.ts';
import { rssBytes } from '../rollout-usage.ts';
import { rowsOfDevice } from './stored-rows.ts';
import { hostileDevice, hostilePage, socketFlood, type Attacker, type AttackTally } from './attackers.ts';
import { HealthSampler } from './health-sampler.ts';
import { mnistLinearOnnx } from './soak-model.ts';
import { describeError, patiently } from './patient-call.ts';

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
  /** False: no attacker runs, the honest load alone (the baseline an attacked run is compared with). Default true. */
  attack?: boolean;
  /**
   * Seconds from one rollout's start to the next; 0 starts the next as soon as one completes (the stress
   * mode: back to back, about one whole-fleet rollout every few seconds). Default {@link DEFAULT_ROLLOUT_EVERY_SEC}.
   */
  rolloutEverySec?: number;
  /** Extra node flags for the server process (`--cpu-prof`, `--cpu-prof-dir=…`). */
  serverNodeArgs?: string[];
  /** How long the honest agents get to deliver what they queued once the attack is over, s. Default 90. */
  drainSec?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  machine: string;
  /** 1-minute load average when the soak started and ended: the simulator shares the cores, so latency is only comparable at equal load. */
  loadAverage: { start: number; end: number };
  minutes: number;
  devices: number;
  attacked: boolean;
  server: {
    rssStartMiB: number;
    rssEndMiB: number;
    dbStartMiB: number;
    dbEndMiB: number;
    /** The hostile device's rows in the databases at the end, per table (see stored-rows.ts); empty without an attack. */
    hostileRows: Record<string, number>;
    /** Whether the server process still ran at the end, and how it ended if not. */
    alive: boolean;
    exit: { code: number | null; signal: string | null } | null;
    /** Event-loop delay over the whole run as the server measured it (`flotilla_event_loop_delay_seconds`); null when unreadable. */
    eventLoopDelay: { p99Ms: number; maxMs: number } | null;
  };
  healthz: { samples: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Predictions the honest agents made, the requests the server stored for them (counted by their windows), windows still queued. */
  honest: { predictions: number; storedRequests: number | null; backlogLeft: number; drainSec: number };
  /** Rollouts started and completed; `everySec`: the cadence (0: back to back). */
  rollouts: { started: number; completed: number; everySec: number };
  attacks: Record<string, AttackTally>;
  /** Each goal of the soak, and whether it was met. */
  goals: { honestLostNothing: boolean; healthzP99Under500ms: boolean; rolloutsCompleted: boolean; serverMemoryFlat: boolean };
  /** What went wrong in the soak itself (API calls that failed after retries, with their cause). */
  problems: string[];
  /** The last lines the server wrote to stderr, kept when it misbehaved (died, failed a call or a probe). */
  serverLogTail?: string;
  passed: boolean;
}

const HONEST_TAG = 'soak';
const MiB = 2 ** 20;
/**
 * A new whole-fleet rollout a minute: already far more than an operator starts (a few a day), and enough
 * for ten in a 10-minute soak. Back to back (0) is the stress mode: it measures how fast the server takes
 * rollout churn, not what a fleet sees.
 */
export const DEFAULT_ROLLOUT_EVERY_SEC = 60;
/** Resident memory the server may gain over the run (caches warming, SQLite pages) and still count as flat. */
const RSS_SLACK_BYTES = 256 * MiB;
/** How often a progress line is logged during the attack, ms. */
const PROGRESS_MS = 30_000;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const attack = o.attack ?? true;
  const loadStart = loadavg()[0]!;
  const srv = await startBenchServer({}, o.serverNodeArgs ?? []);
  let sim: FleetSimulator | null = null;
  const attackers: Attacker[] = [];
  let hostileId: string | null = null;
  const problems: string[] = [];
  const call = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>) => patiently(what, fn, { attempts: 3, timeoutMs: 15_000 });
  try {
    const bundles = await twoBundles(srv);
    log(`server ${srv.url}, MQTT ${srv.mqttUrl}; starting ${o.devices} honest agents (load average ${loadStart.toFixed(1)})`);
    sim = await FleetSimulator.start({
      server: srv.url,
      token: srv.token,
      mqttUrl: srv.mqttUrl,
      devices: o.devices,
      tags: [HONEST_TAG],
      rate: o.rate ?? 0.2,
      feedbackRate: 0.2,
      telemetryWindowSec: o.windowSec ?? 10,
      startConcurrency: 50,
      processes: o.processes ?? Math.min(4, availableParallelism()),
      log,
    });
    const fleet = sim;
    const rssStart = rssBytes(srv.pid) ?? 0;
    const dbStart = databaseBytes(srv.dataDir);
    const health = new HealthSampler(srv.url);
    if (attack) {
      const hostile = (await srv.api('POST', '/api/v1/devices', { id: 'soak-hostile', tags: ['hostile'] })) as {
        id: string;
        token: string;
      };
      hostileId = hostile.id;
      attackers.push(hostileDevice(srv.mqttUrl, hostile), hostilePage(srv.url), socketFlood(srv.mqttUrl, o.floodSockets ?? 500));
      log(`attack on for ${o.minutes} min: ${attackers.map((a) => a.name).join(', ')}`);
    } else log(`no attack: honest load alone for ${o.minutes} min`);
    const progress = setInterval(() => void progressLine(srv, health, fleet).then(log), PROGRESS_MS);
    const deadline = Date.now() + o.minutes * 60_000;
    const everySec = o.rolloutEverySec ?? DEFAULT_ROLLOUT_EVERY_SEC;
    const rollouts = await rolloutsUntil(srv, bundles, deadline, everySec, log, call, problems).catch(
      (e) => (clearInterval(progress), Promise.reject(e)),
    );
    for (const a of attackers) await a.stop();
    await health.stop();
    const rssEnd = rssBytes(srv.pid) ?? 0;
    const dbEnd = databaseBytes(srv.dataDir);
    const hostileRows = hostileId ? rowsOfDevice(srv.dataDir, hostileId) : {};
    log(`${attack ? 'attack over' : 'load over'}; honest agents stop their traffic and deliver what they queued`);
    await sim.quiesce();
    const honest = await honestAccount(srv, sim, (o.drainSec ?? 90) * 1000, call, problems, log).finally(() => clearInterval(progress));
    const eventLoopDelay = await call('GET /metrics', (signal) => loopDelay(srv, signal)).catch(
      (e) => (problems.push(`GET /metrics: ${describeError(e)}`), null),
    );
    const h = health.summary();
    const exit = srv.exited();
    if (exit) problems.push(`the server process ended during the soak (code ${exit.code}, signal ${exit.signal})`);
    const goals = {
      // Every prediction counted by the server. Queued windows left over are reported, not judged: a quiet agent
      // still closes an empty window every period, so the queue need not be empty when nothing is missing.
      honestLostNothing: honest.storedRequests === honest.predictions,
      healthzP99Under500ms: h.failures === 0 && h.p99Ms < 500,
      rolloutsCompleted: rollouts.completed > 0,
      serverMemoryFlat: !exit && rssEnd - rssStart <= RSS_SLACK_BYTES,
    };
    const misbehaved = exit !== null || problems.length > 0 || !Object.values(goals).every(Boolean);
    return {
      machine: machineSummary(),
      loadAverage: { start: loadStart, end: loadavg()[0]! },
      minutes: o.minutes,
      devices: o.devices,
      attacked: attack,
      server: {
        rssStartMiB: mib(rssStart),
        rssEndMiB: mib(rssEnd),
        dbStartMiB: mib(dbStart),
        dbEndMiB: mib(dbEnd),
        hostileRows,
        alive: exit === null,
        exit,
        eventLoopDelay,
      },
      healthz: h,
      honest,
      rollouts: { ...rollouts, everySec },
      attacks: Object.fromEntries(attackers.map((a) => [a.name, a.tally])),
      goals,
      problems,
      ...(misbehaved ? { serverLogTail: logTail(srv) } : {}),
      passed: Object.values(goals).every(Boolean) && problems.length === 0,
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

type Call = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Rolls the honest fleet to one bundle and back until `deadline`, a rollout every `everySec` (0: each as soon
 * as the last completed); counts rollouts started and completed.
 * A call that still fails after its retries is noted in `problems` and the loop goes on to the deadline.
 */
async function rolloutsUntil(
  srv: BenchServer,
  bundles: string[],
  deadline: number,
  everySec: number,
  log: (l: string) => void,
  call: Call,
  problems: string[],
) {
  let started = 0;
  let completed = 0;
  const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));
  let nextAt = Date.now();
  while (Date.now() < deadline) {
    if (Date.now() < nextAt) {
      await pause(Math.min(nextAt, deadline) - Date.now());
      continue;
    }
    nextAt = Date.now() + everySec * 1000;
    let id: string;
    try {
      id = (
        (await call('POST /api/v1/rollouts', (signal) =>
          srv.api(
            'POST',
            '/api/v1/rollouts',
            { bundle: bundles[started % 2], target: { tags: [HONEST_TAG] }, supersede: true, ...DELIVERY_ONLY },
            signal,
          ),
        )) as { id: string }
      ).id;
    } catch (e) {
      problems.push(`POST /api/v1/rollouts: ${describeError(e)}`);
      if (srv.exited()) break;
      await pause(1000);
      continue;
    }
    started++;
    for (;;) {
      await pause(1000);
      let state: string;
      try {
        state = (
          (await call(`GET /api/v1/rollouts/${id}`, (signal) => srv.api('GET', `/api/v1/rollouts/${id}`, undefined, signal))) as {
            state: string;
          }
        ).state;
      } catch (e) {
        problems.push(`GET /api/v1/rollouts/${id}: ${describeError(e)}`);
        break;
      }
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

/** Waits (up to `drainMs`) for the agents' queues to empty and the server to count every honest request. */
async function honestAccount(
  srv: BenchServer,
  sim: FleetSimulator,
  drainMs: number,
  call: Call,
  problems: string[],
  log: (l: string) => void,
) {
  const predictions = () => Object.values(sim.cohorts()).reduce((n, c) => n + c.predictions, 0);
  const t0 = Date.now();
  let stored: number | null = null;
  let lastError: unknown = null;
  let lastLog = t0;
  for (;;) {
    try {
      stored = await call('GET /api/v1/monitoring/series', (signal) => storedRequests(srv, signal));
      lastError = null;
    } catch (e) {
      lastError = e;
    }
    if (stored === predictions() || Date.now() - t0 > drainMs || srv.exited()) break;
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`draining: ${sim.backlog()} windows queued on devices, ${stored ?? '?'} of ${predictions()} predictions stored`);
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  if (lastError) problems.push(`GET /api/v1/monitoring/series (counting stored requests): ${describeError(lastError)}`);
  return {
    predictions: predictions(),
    storedRequests: stored,
    backlogLeft: sim.backlog(),
    drainSec: Math.round((Date.now() - t0) / 100) / 10,
  };
}

/** Requests in the honest cohort's rollups (every window of a device tagged `soak`). */
async function storedRequests(srv: BenchServer, signal: AbortSignal): Promise<number> {
  const from = new Date(Date.now() - 48 * 3600_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const r = (await srv.api(
    'GET',
    `/api/v1/monitoring/series?scope=cohort&id=${HONEST_TAG}&metrics=requests&from=${from}&to=${to}`,
    undefined,
    signal,
  )) as { series: { points: { requests?: number }[] }[] };
  return r.series.reduce((n, s) => n + s.points.reduce((m, p) => m + (p.requests ?? 0), 0), 0);
}

/** One line of how the run goes: the server's memory and loop, the probe, the devices' queues, the admission gate. */
async function progressLine(srv: BenchServer, health: HealthSampler, fleet: FleetSimulator): Promise<string> {
  const h = health.summary();
  const text = await srv.metrics(AbortSignal.timeout(5000)).catch(() => '');
  const metric = (name: string) => new RegExp(`^${name.replace(/[{}".]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? '?';
  return (
    `progress: server RSS ${mib(rssBytes(srv.pid) ?? 0)} MiB (heap ${mib(Number(metric('flotilla_process_memory_bytes{kind="heap_used"}')))} MiB), event loop max ${metric('flotilla_event_loop_delay_seconds{quantile="max"}')} s, ` +
    `/healthz p99 ${h.p99Ms} ms max ${h.maxMs} ms (${h.failures} failed), windows queued on devices ${fleet.backlog()}, ` +
    `admission peak ${metric('flotilla_mqtt_admission_peak')} waits ${metric('flotilla_mqtt_admission_waits_total')}, load ${loadavg()[0]!.toFixed(1)}`
  );
}

/** The server's own event-loop delay figures from /metrics, ms. */
async function loopDelay(srv: BenchServer, signal: AbortSignal): Promise<{ p99Ms: number; maxMs: number } | null> {
  const text = await srv.metrics(signal);
  const q = (quantile: string) => {
    const m = new RegExp(`^flotilla_event_loop_delay_seconds\\{quantile="${quantile.replace('.', '\\.')}"\\} (\\S+)$`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) * 10_000) / 10 : null;
  };
  const p99Ms = q('0.99');
  const maxMs = q('max');
  return p99Ms === null || maxMs === null ? null : { p99Ms, maxMs };
}

/**
 * The server's last error lines, else its last lines: the hostile device makes it log a warning per refused
 * message, which would push the one error that explains a loss out of a plain tail.
 */
function logTail(srv: BenchServer): string {
  const errors = srv.stderrErrors();
  const lines = errors.length ? errors : srv.stderrTail().split('\n').filter(Boolean);
  return lines
    .slice(-20)
    .map((l) => l.slice(0, 600))
    .join('\n');
}

/** Bytes of the server's SQLite files (databases with their WAL and shared-memory files). */
function databaseBytes(dataDir: string): number {
  return readdirSync(dataDir)
    .filter((f) => /\.db(-wal|-shm)?$/.test(f))
    .reduce((n, f) => n + statSync(join(dataDir, f)).size, 0);
}

const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
