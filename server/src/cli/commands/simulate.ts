// `flotilla simulate`: runs a fleet of real agents in this process against a server, with injected faults.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { ApiClient } from '../api-client.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { serverOptions } from '../common.ts';
import { FleetSimulator, type SimulatorOptions } from '../../simulator/index.ts';

const share = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new CliError('USAGE', `${name} is a share of devices, 0..1 (got '${v}')`, EXIT.USAGE);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new CliError('USAGE', `${name} must be a number ≥ 0 (got '${v}')`, EXIT.USAGE);
  return n;
};

/** `phone=snow,car=snow` → `{ phone: 'snow', car: 'snow' }`. */
function transforms(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [cohort, name] = part.split('=');
    if (!cohort || !name) throw new CliError('USAGE', `--transform '${part}' is not COHORT=NAME (e.g. phone=snow)`, EXIT.USAGE);
    out[cohort] = name;
  }
  return out;
}

export function registerSimulateCommand(program: Command): void {
  serverOptions(
    program
      .command('simulate')
      .description('Run N simulated devices (real agents, one MQTT connection each) fed MNIST digits, until Ctrl-C or --duration')
      .requiredOption('--devices <n>', 'number of devices to provision and run', positive('--devices'))
      .option('--tags <list>', 'cohort tags, assigned round-robin', 'car,phone,sensor')
      .option('--tag <tag...>', 'extra tag(s) every device gets (target rollouts at this fleet)')
      .option('--rate <r>', 'predictions per device per second (0: none)', positive('--rate'), 1)
      .option('--transform <list>', 'input transform per cohort, e.g. phone=snow (drift demo)')
      .option('--crash-rate <x>', 'share of devices that crash and restart now and then', share('--crash-rate'), 0)
      .option('--flaky-rate <x>', 'share of devices whose broker link keeps dropping', share('--flaky-rate'), 0)
      .option('--slow-rate <x>', 'share of devices with slow inference', share('--slow-rate'), 0)
      .option(
        '--self-test-fail-rate <x>',
        'share of devices on which every new model fails its self-test',
        share('--self-test-fail-rate'),
        0,
      )
      .option('--duration <sec>', 'stop after this many seconds (default: until Ctrl-C)', positive('--duration'))
      .option('--data <dir>', 'folder for the device data folders (default: a temporary one, removed at the end)')
      .option('--seed <n>', 'seed of every random draw', positive('--seed'), 1)
      .option(
        '--processes <n>',
        'worker processes the devices run in (default: one per core; 1 runs them in this process)',
        positive('--processes'),
      ),
  ).action(async (o) => {
    const api = new ApiClient(o);
    const token = api.headers().authorization?.replace(/^Bearer /, '');
    if (!token)
      throw new CliError('USAGE', 'an operator token is needed to provision devices (--token-file FILE or FLOTILLA_TOKEN)', EXIT.USAGE);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const opts: SimulatorOptions = {
      server: api.base,
      token,
      devices: Math.floor(o.devices),
      cohorts: String(o.tags).split(',').filter(Boolean),
      tags: o.tag,
      rate: o.rate,
      transforms: transforms(o.transform),
      crashRate: o.crashRate,
      flakyRate: o.flakyRate,
      slowRate: o.slowRate,
      selfTestFailRate: o.selfTestFailRate,
      baseDir: o.data,
      seed: o.seed,
      processes: Math.max(1, Math.floor(o.processes ?? availableParallelism())),
      log,
    };
    const t0 = Date.now();
    const sim = await FleetSimulator.start(opts);
    const summary = () => ({
      devices: sim.size,
      seconds: Math.round((Date.now() - t0) / 1000),
      online: sim.state().filter((d) => d.online).length,
      versions: sim.versions(),
      cohorts: sim.cohorts(),
      crashes: sim.state().reduce((n, d) => n + d.crashes, 0),
      linkDrops: sim.linkDrops,
    });
    const live = process.stderr.isTTY && !o.json;
    const line = () => {
      const s = summary();
      const acc = Object.entries(s.cohorts)
        .map(([c, x]) => `${c} ${x.accuracy === null ? '-' : `${(x.accuracy * 100).toFixed(1)}%`}`)
        .join(' ');
      return `${s.seconds}s  ${s.online}/${s.devices} online  models ${Object.entries(s.versions)
        .map(([v, n]) => `${v}:${n}`)
        .join(' ')}  accuracy ${acc}  crashes ${s.crashes}  drops ${s.linkDrops}`;
    };
    const ticker = setInterval(() => (live ? process.stderr.write(`\r\x1b[K${line()}`) : o.json || log(line())), live ? 1000 : 10_000);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (o.duration !== undefined) setTimeout(stop, o.duration * 1000);
    });
    clearInterval(ticker);
    if (live) process.stderr.write('\n');
    const final = summary();
    await sim.close();
    if (o.json) process.stdout.write(`${JSON.stringify(final)}\n`);
    else process.stdout.write(`${line()}\n`);
  });
}
