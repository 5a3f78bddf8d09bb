#!/usr/bin/env node
// The `flotilla` command: registers the TypeScript loader, then runs the CLI (no build step needed).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv);
