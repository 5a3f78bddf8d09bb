// `flotilla soak`: a simulated fleet under attack for N minutes against a fresh server; exits 1 when a goal is missed.
import type { Command } from 'commander';
import { runSoak, type SoakReport } from '../../bench/soak/soak.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { emit } from '../output.ts';

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError('USAGE', `${flag} must be a positive number, got ${JSON.stringify(v)}`, EXIT.USAGE);
  return n;
};

export function registerSoakCommand(program: Command): void {
  program
    .command('soak')
    .description('Run a fresh server with a simulated fleet of honest agents (rollouts going round) while a hostile device, a hostile web page and a flood of idle sockets attack it; report what the honest side lost and how the server held')
    .option('--minutes <m>', 'how long the attack lasts', positive('--minutes'), 10)
    .option('--devices <n>', 'honest simulated agents', positive('--devices'), 1000)
    .option('--processes <n>', 'simulator worker processes (default: one per core, at most 4)', positive('--processes'))
    .option('--rate <r>', 'predictions per honest device per second', positive('--rate'), 0.2)
    .option('--sockets <n>', 'idle sockets the flood keeps open', positive('--sockets'), 500)
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Goals (exit 1 when one is missed): honest devices lose no telemetry (every prediction counted by the server),
/healthz p99 under 500 ms with no failure, at least one rollout completed, server memory flat (within 256 MiB).
Everything binds 127.0.0.1; the server and the fleet's folders are temporary and removed at the end.`)
    .action(async (o) => {
      const report = await runSoak({
        minutes: o.minutes, devices: Math.round(o.devices), processes: o.processes && Math.round(o.processes), rate: o.rate,
        floodSockets: Math.round(o.sockets), log: (line) => process.stderr.write(`[soak] ${line}\n`),
      });
      emit(o, report, () => describe(report));
      if (!report.passed) process.exitCode = EXIT.FAILED;
    });
}

function describe(r: SoakReport): string {
  const ok = (b: boolean) => (b ? 'met' : 'MISSED');
  return [
    `soak: ${r.devices} honest agents, ${r.minutes} min under attack (${r.machine})`,
    `server RSS ${r.server.rssStartMiB} → ${r.server.rssEndMiB} MiB; databases ${r.server.dbStartMiB} → ${r.server.dbEndMiB} MiB`,
    `/healthz: ${r.healthz.samples} probes, p50 ${r.healthz.p50Ms} ms, p99 ${r.healthz.p99Ms} ms, max ${r.healthz.maxMs} ms, ${r.healthz.failures} failed`,
    `honest: ${r.honest.predictions} predictions made, ${r.honest.storedRequests} stored, ${r.honest.backlogLeft} windows still queued`,
    `rollouts: ${r.rollouts.completed} of ${r.rollouts.started} completed`,
    ...Object.entries(r.attacks).map(([name, t]) => `${name}: ${t.sent} sent; ${Object.entries(t.outcomes).map(([k, n]) => `${k} ×${n}`).join(', ')}`),
    `goals: lost nothing ${ok(r.goals.honestLostNothing)}, healthz p99 < 500 ms ${ok(r.goals.healthzP99Under500ms)}, rollouts ${ok(r.goals.rolloutsCompleted)}, memory flat ${ok(r.goals.serverMemoryFlat)}`,
  ].join('\n');
}
