// `flotilla bundle keygen`: a new Ed25519 signing key pair in a folder.
import type { Command } from 'commander';
import { writeKeyPair } from '../../node/key-store.ts';
import { defineAction } from '../command-kit.ts';

/** Adds `keygen --out DIR [--name NAME]`. */
export function registerKeygen(bundle: Command): void {
  const cmd = bundle
    .command('keygen')
    .description(
      'Generate an Ed25519 signing key pair: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (give this to devices). Never overwrites.',
    )
    .requiredOption('--out <dir>', 'folder to write the key files into (created if missing)')
    .option('--name <name>', 'base name of the two files', 'signing');
  defineAction<{ out: string; name: string }>(cmd, async (_args, opts) => {
    const files = await writeKeyPair(opts.out, { name: opts.name });
    return {
      data: { ...files },
      human: [`key id      ${files.keyId}`, `secret key  ${files.secretKeyFile}  (keep private)`, `public key  ${files.publicKeyFile}`],
    };
  });
}
