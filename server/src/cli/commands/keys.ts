// `flotilla keys show|rotate|retire`: the server's bundle signing keys, with the fingerprints agents are told
// to trust; rotate and retire issue a signed trust update (SPEC §6.6) that every device gets with its next
// desired state, so a leaked or retired key is replaced without touching a device.
import type { Command } from 'commander';
import type { TrustChangeAnswer } from '../../api/contract.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, client, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit } from '../output.ts';

const LEAK_HELP = `
A leaked key: with threshold 1 whoever holds ANY trusted key can sign a trust update of their own
(and bundles), so fleets that fear a leak keep threshold 2 or more: \`flotilla keys rotate --threshold 2\`
once a second key exists. When a key leaks: rotate (the new key signs bundles from then on), then
retire the leaked key; with threshold >= 2 the thief alone can no longer change what devices trust.`;

function threshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new CliError('USAGE', `--threshold expects an integer from 1 to 16, got '${text}'`, EXIT.USAGE);
  return n;
}

function describe(r: TrustChangeAnswer, what: string): string {
  return [
    `${what}; trust version ${r.version}, threshold ${r.threshold}, signed by ${r.signedBy.join(', ')}`,
    `active signer ${r.active}; ${r.devices} device(s) got the trust update in a new desired state`,
    ...r.keys.map((k) => `  ${k.active ? '*' : ' '} ${k.keyId}  ${k.fingerprint}`),
  ].join('\n');
}

export function registerKeyCommands(program: Command): void {
  const keys = program
    .command('keys')
    .alias('key')
    .description("The server's bundle signing keys: show, rotate, retire")
    .addHelpText('after', LEAK_HELP);
  serverOptions(
    keys
      .command('show')
      .description(
        'Trusted keys with fingerprints, which one signs new bundles, and the trust version: start agents with --trust-fingerprint FINGERPRINT',
      )
      .option('--fingerprint', "print only the active signing key's fingerprint (for scripts)"),
  ).action(async (o) => {
    const r = await answer(api(o).keys.$get());
    const active = r.keys.find((k) => k.active) ?? r.keys[0];
    if (o.fingerprint && !o.json) return void process.stdout.write(`${active?.fingerprint ?? ''}\n`);
    emit(o, r, () =>
      [
        `trust version ${r.version}, threshold ${r.threshold}, ${r.keys.length} trusted key(s)`,
        ...r.keys.map((k) =>
          [
            `key ${k.keyId}${k.active ? ' (active: signs new bundles)' : ''}`,
            `  fingerprint ${k.fingerprint}`,
            `  public key  ${k.publicKey}`,
            ...(k.active ? [`  agents: flotilla agent --server ${client(o).base} --trust-fingerprint ${k.fingerprint} ...`] : []),
          ].join('\n'),
        ),
      ].join('\n\n'),
    );
  });

  serverOptions(
    keys
      .command('rotate')
      .description(
        'Make a new signing key (admin): devices trust it through a trust update signed by the current keys; it signs every bundle from now on',
      )
      .option(
        '--threshold <n>',
        'signatures the NEXT trust update needs (default: the current threshold); 2 or more once two keys exist guards against one leaked key',
      )
      .addHelpText('after', LEAK_HELP),
  ).action(async (o) => {
    const n = threshold(o.threshold);
    const r = await answer(api(o).keys.rotate.$post({ json: n === undefined ? {} : { threshold: n } }));
    emit(o, r, () => describe(r, `new signing key ${r.keyId}`));
  });

  serverOptions(
    keys
      .command('retire')
      .argument('<keyId>', 'key id (16 hex) or SHA256: fingerprint of a trusted key')
      .description(
        'Stop trusting a key (admin): a trust update without it, signed by the remaining keys. Not the active signer (rotate first), not the last key',
      )
      .option('--threshold <n>', 'signatures the NEXT trust update needs (default: the current one, at most the keys left)')
      .addHelpText('after', LEAK_HELP),
  ).action(async (keyId: string, o) => {
    const n = threshold(o.threshold);
    const r = await answer(api(o).keys[':id'].retire.$post({ param: { id: keyId }, json: n === undefined ? {} : { threshold: n } }));
    emit(o, r, () => describe(r, `retired key ${r.keyId}`));
  });
}
