// `flotilla bench [NAME]`: runs the benchmarks and records them in BENCHMARKS.md.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeBenchmarks } from '../../bench/benchmarks-file.ts';
import type { BenchReport } from '../../bench/bench-types.ts';
import { machineSummary } from '../../bench/machine.ts';
import { BENCHMARKS } from '../../bench/registry.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench [names...]')
    .description(`Run benchmarks (all when none named) and write BENCHMARKS.md. Names: ${Object.keys(BENCHMARKS).join(', ')}`)
    .option('--json', 'print the figures as JSON (one object keyed by benchmark)')
    .option('--quick', 'smaller workloads, for a fast look (not for the record)')
    .option('--no-write', 'do not update BENCHMARKS.md')
    .option('--out <file>', 'benchmarks file', 'BENCHMARKS.md')
    .addHelpText(
      'after',
      `\n${Object.entries(BENCHMARKS)
        .map(([n, b]) => `  ${n.padEnd(10)} ${b.description}`)
        .join('\n')}`,
    )
    .action(async (names: string[], o) => {
      const chosen = names.length ? names : Object.keys(BENCHMARKS);
      for (const n of chosen)
        if (!BENCHMARKS[n])
          throw new CliError('USAGE', `unknown benchmark '${n}'; choose from ${Object.keys(BENCHMARKS).join(', ')}`, EXIT.USAGE);
      const reports: BenchReport[] = [];
      const log = (line: string) => process.stderr.write(`${line}\n`);
      for (const n of chosen) {
        log(`== bench ${n}: ${BENCHMARKS[n]!.description}`);
        const mod = await BENCHMARKS[n]!.load();
        const r = await mod.run({ quick: Boolean(o.quick), log });
        reports.push(r);
        if (!o.json) process.stdout.write(`\n${r.markdown.trim()}\n\n`);
      }
      const machine = machineSummary();
      if (o.write && !o.quick) writeBenchmarks(resolve(o.out), reports, machine);
      if (o.json) {
        const out =
          chosen.length === 1
            ? { machine, ...reports[0]!.figures }
            : { machine, ...Object.fromEntries(reports.map((r) => [r.name, r.figures])) };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      }
    });
}
