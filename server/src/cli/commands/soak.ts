// `flotilla soak`: a simulated fleet under attack for N minutes against a fresh server; exits 1 when a goal is missed.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ROLLOUT_EVERY_SEC, runSoak, type SoakReport } from '../../bench/soak/soak.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { emit } from '../output.ts';

const nonNegative = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError('USAGE', `${flag} must be a number of seconds, 0 or more, got ${JSON.stringify(v)}`, EXIT.USAGE);
  return n;
};

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError('USAGE', `${flag} must be a positive number, got ${JSON.stringify(v)}`, EXIT.USAGE);
  return n;
};

export function registerSoakCommand(program: Command): void {
  program
    .command('soak')
    .description(
      'Run a fresh server with a simulated fleet of honest agents (rollouts going round) while a hostile device, a hostile web page and a flood of idle sockets attack it; report what the honest side lost and how the server held',
    )
    .option('--minutes <m>', 'how long the attack lasts', positive('--minutes'), 10)
    .option('--devices <n>', 'honest simulated agents', positive('--devices'), 1000)
    .option('--processes <n>', 'simulator worker processes (default: one per core, at most 4)', positive('--processes'))
    .option('--rate <r>', 'predictions per honest device per second', positive('--rate'), 0.2)
    .option('--sockets <n>', 'idle sockets the flood keeps open', positive('--sockets'), 500)
    .option(
      '--rollout-every <s>',
      `seconds from one whole-fleet rollout's start to the next (default: ${DEFAULT_ROLLOUT_EVERY_SEC}, already far above an operator's pace)`,
      nonNegative('--rollout-every'),
    )
    .option('--back-to-back', 'stress mode: start each rollout as soon as the last one completed (same as --rollout-every 0)')
    .option('--no-attack', 'run the honest load alone, no attacker: the baseline an attacked run is compared with')
    .option('--drain <s>', 'seconds the agents get to deliver their queued windows after the run', positive('--drain'), 90)
    .option(
      '--server-profile <dir>',
      'run the server under `node --cpu-prof` and write its CPU profile into <dir> (open it in Chrome DevTools)',
    )
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Goals (exit 1 when one is missed): honest devices lose no telemetry (every prediction counted by the server;
windows still queued are reported: quiet agents keep closing empty windows),
/healthz p99 under 500 ms with no failure, at least one rollout completed, server memory flat (within 256 MiB).
Rollouts: a whole-fleet rollout (one bundle, then back) starts every ${DEFAULT_ROLLOUT_EVERY_SEC} s by default, already far more than
an operator starts; --back-to-back starts each as soon as the last completed (dozens a minute), to stress the server.
The simulated fleet runs on the same cores as the server: the report prints the load average at start and end,
and latency figures compare only between runs at similar load (run --no-attack back to back for the baseline).
A failed API call or a dead server does not stop the report: it is printed with the cause and the server's log tail.
Everything binds 127.0.0.1; the server and the fleet's folders are temporary and removed at the end.`,
    )
    .action(async (o) => {
      const report = await runSoak({
        minutes: o.minutes,
        devices: Math.round(o.devices),
        processes: o.processes && Math.round(o.processes),
        rate: o.rate,
        floodSockets: Math.round(o.sockets),
        attack: o.attack,
        rolloutEverySec: o.backToBack ? 0 : o.rolloutEvery,
        drainSec: o.drain,
        serverNodeArgs: o.serverProfile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(o.serverProfile)}`] : [],
        log: (line) => process.stderr.write(`[soak] ${line}\n`),
      });
      emit(o, report, () => describe(report));
      if (!report.passed) process.exitCode = EXIT.FAILED;
    });
}

function describe(r: SoakReport): string {
  const ok = (b: boolean) => (b ? 'met' : 'MISSED');
  return [
    `soak: ${r.devices} honest agents, ${r.minutes} min ${r.attacked ? 'under attack' : 'without attack (baseline)'} (${r.machine})`,
    `load average ${r.loadAverage.start.toFixed(1)} at start, ${r.loadAverage.end.toFixed(1)} at end`,
    `server RSS ${r.server.rssStartMiB} → ${r.server.rssEndMiB} MiB; databases ${r.server.dbStartMiB} → ${r.server.dbEndMiB} MiB; ${r.server.alive ? 'alive at the end' : `DIED (code ${r.server.exit?.code}, signal ${r.server.exit?.signal})`}`,
    ...(r.attacked
      ? [
          `hostile device's rows stored: ${
            Object.entries(r.server.hostileRows)
              .map(([t, n]) => `${t} ×${n}`)
              .join(', ') || 'none'
          }`,
        ]
      : []),
    `server event-loop delay: ${r.server.eventLoopDelay ? `p99 ${r.server.eventLoopDelay.p99Ms} ms, max ${r.server.eventLoopDelay.maxMs} ms` : 'unknown'}`,
    `/healthz: ${r.healthz.samples} probes, p50 ${r.healthz.p50Ms} ms, p99 ${r.healthz.p99Ms} ms, max ${r.healthz.maxMs} ms, ${r.healthz.failures} failed`,
    `honest: ${r.honest.predictions} predictions made, ${r.honest.storedRequests ?? 'unknown'} stored, ${r.honest.backlogLeft} windows still queued after ${r.honest.drainSec} s of draining`,
    `rollouts: ${r.rollouts.completed} of ${r.rollouts.started} completed (whole fleet, one bundle and back, ${
      r.rollouts.everySec === 0
        ? 'back to back: the stress mode'
        : `one every ${r.rollouts.everySec} s${r.rollouts.everySec === DEFAULT_ROLLOUT_EVERY_SEC ? " (the default: already far above an operator's pace; --back-to-back for stress)" : ''}`
    })`,
    ...Object.entries(r.attacks).map(
      ([name, t]) =>
        `${name}: ${t.sent} sent; ${Object.entries(t.outcomes)
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')}`,
    ),
    ...r.problems.map((p) => `problem: ${p}`),
    ...(r.serverLogTail ? ['server log tail:', r.serverLogTail] : []),
    `goals: lost nothing ${ok(r.goals.honestLostNothing)}, healthz p99 < 500 ms ${ok(r.goals.healthzP99Under500ms)}, rollouts ${ok(r.goals.rolloutsCompleted)}, memory flat ${ok(r.goals.serverMemoryFlat)}`,
  ].join('\n');
}
