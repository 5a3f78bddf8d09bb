#!/usr/bin/env -S node --import tsx
// Runs `flotilla agent` without the server package: `npx tsx edge-agent/bin/flotilla-agent.ts agent --help`.
import { Command } from 'commander';
import { registerAgentCommand } from '../src/cli/agent-command.ts';

const program = new Command('flotilla').description('Flotilla edge agent');
registerAgentCommand(program);
program.parseAsync(process.argv).catch((err: Error & { code?: string }) => {
  process.stderr.write(`error [${err.code ?? 'FAILED'}]: ${err.message}\n`);
  process.exit(1);
});
