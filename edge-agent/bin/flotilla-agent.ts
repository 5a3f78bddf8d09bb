#!/usr/bin/env -S node --import tsx
// Runs `flotilla agent` without the server package: `npx tsx edge-agent/bin/flotilla-agent.ts agent --help`.
import { Command } from 'commander';
import { registerAgentCommand } from '../src/cli/agent-command.ts';

const program = new Command('flotilla').description('Flotilla edge agent');
registerAgentCommand(program);
program.parseAsync(process.argv).catch((err: Error & { code?: string; exit?: number }) => {
  process.stderr.write(`error [${err.code ?? 'FAILED'}]: ${err.message}\n`);
  // 2: a usage error (a secret on the command line); 1: anything else.
  process.exit(err.exit ?? 1);
});
