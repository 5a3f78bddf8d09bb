#!/usr/bin/env -S npx tsx
// Standalone runner of the bundle commands, for development: `npx tsx firmware-bundler/bin/flotilla-bundle.ts verify ...`.
import { Command } from 'commander';
import { registerBundleCommands } from '../src/cli/index.ts';

const program = new Command('flotilla').description('Flotilla bundle tools (standalone runner).');
registerBundleCommands(program);
const argv = process.argv.slice(2);
// Accept both `flotilla-bundle verify X` and `flotilla-bundle bundle verify X`.
const args = argv[0] === 'bundle' || argv[0] === undefined || argv[0].startsWith('-') ? argv : ['bundle', ...argv];
await program.parseAsync(args, { from: 'user' });
