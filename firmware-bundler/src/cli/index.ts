// `flotilla bundle <command>`: registers the bundle subcommands on a host commander program.
import type { Command } from 'commander';
import { registerDiff } from './commands/diff.ts';
import { registerExportC } from './commands/export-c.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerKeygen } from './commands/keygen.ts';
import { registerPack } from './commands/pack.ts';
import { registerUnpack } from './commands/unpack.ts';
import { registerVerify } from './commands/verify.ts';

import { EXIT } from './command-kit.ts';

export { EXIT };

/**
 * Adds `bundle` with `keygen`, `pack`, `verify`, `inspect`, `unpack`, `diff` and `export-c` to
 * `program`. Also calls `program.enablePositionalOptions()`: without it a host-level `--version`
 * (from `program.version()`) would swallow `bundle pack --version SEMVER`.
 */
export function registerBundleCommands(program: Command): void {
  program.enablePositionalOptions();
  const bundle = program
    .command('bundle')
    .description('Signed, chunked model bundles: create keys, pack, verify, inspect, unpack, diff, export to C.')
    // An unknown or missing subcommand is a usage error (exit 2), like a bad flag (SPEC §15).
    .exitOverride((err) => {
      if (err.exitCode !== 0) process.exit(EXIT.usage);
    });
  registerKeygen(bundle);
  registerPack(bundle);
  registerVerify(bundle);
  registerInspect(bundle);
  registerUnpack(bundle);
  registerDiff(bundle);
  registerExportC(bundle);
}
