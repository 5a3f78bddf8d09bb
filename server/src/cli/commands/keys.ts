// `flotilla keys show`: the server's bundle signing key, with the fingerprint an agent is told to trust.
import type { Command } from 'commander';
import { api, client, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit } from '../output.ts';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').alias('key').description('The server\'s bundle signing keys');
  serverOptions(keys.command('show').description('Key id, fingerprint and public key: start agents with --trust-fingerprint FINGERPRINT')
    .option('--fingerprint', 'print only the signing key\'s fingerprint (for scripts)'))
    .action(async (o) => {
      const { keys: list } = await answer(api(o).keys.$get());
      if (o.fingerprint && !o.json) return void process.stdout.write(`${list.map((k) => k.fingerprint).join('\n')}\n`);
      emit(o, { keys: list }, () => list.map((k) => [
        `key ${k.keyId}`,
        `  fingerprint ${k.fingerprint}`,
        `  public key  ${k.publicKey}`,
        `  agents: flotilla agent --server ${client(o).base} --trust-fingerprint ${k.fingerprint} ...`,
      ].join('\n')).join('\n\n'));
    });
}
