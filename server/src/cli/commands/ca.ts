// `flotilla ca show|export|issue-server`: the Flotilla CA for mTLS brokers (docs/identity.md). `export` gives
// the CA certificate a broker trusts (Mosquitto `cafile`); `issue-server` certifies a broker's own key
// (Mosquitto `certfile`; the key never leaves the broker's host: give its public half).
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit } from '../output.ts';

const MOSQUITTO_HELP = `
Mosquitto with client certificates (docs/external-broker.md):
  flotilla ca export --out ca.pem
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out broker.key
  openssl pkey -in broker.key -pubout -out broker.pub
  flotilla ca issue-server --host mqtt.example --public-key broker.pub --out broker.crt
  # mosquitto.conf: listener 8883 / cafile ca.pem / certfile broker.crt / keyfile broker.key
  #                 require_certificate true / use_identity_as_username true`;

export function registerCaCommands(program: Command): void {
  const ca = program
    .command('ca')
    .description('The Flotilla CA for mTLS: show it, export it for brokers, certify a broker key')
    .addHelpText('after', MOSQUITTO_HELP);
  serverOptions(ca.command('show').description("The CA certificate's fingerprint and expiry (pin the fingerprint out of band)")).action(
    async (o) => {
      const r = await answer(api(o).ca.$get());
      emit(o, r, () => `Flotilla CA ${r.fingerprint}, valid until ${r.notAfter}\n(flotilla ca export prints the certificate)`);
    },
  );

  serverOptions(
    ca
      .command('export')
      .description('The CA certificate (PEM): what brokers trust for device certificates and agents pin')
      .option('--out <file>', 'write it to this file instead of stdout'),
  ).action(async (o) => {
    const r = await answer(api(o).ca.$get());
    if (o.out) writeFileSync(o.out, r.certificate);
    if (o.json) return emit(o, { ...r, ...(o.out ? { written: o.out } : {}) }, () => '');
    if (o.out) process.stderr.write(`wrote ${o.out} (${r.fingerprint})\n`);
    else process.stdout.write(r.certificate);
  });

  serverOptions(
    ca
      .command('issue-server')
      .description("A server certificate from the CA for a broker's own key (admin): give the hosts devices use and the PUBLIC key file")
      .requiredOption(
        '--host <name>',
        'DNS name or IPv4 address devices connect to (repeat for several)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .requiredOption('--public-key <file>', "the broker key's public half, PEM (P-256 or Ed25519)")
      .option('--days <n>', 'validity in days (default 365)')
      .option('--out <file>', 'write the certificate to this file instead of stdout')
      .addHelpText('after', MOSQUITTO_HELP),
  ).action(async (o) => {
    let publicKey: string;
    try {
      publicKey = createPublicKey(readFileSync(o.publicKey, 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64');
    } catch (err) {
      throw new CliError(
        'USAGE',
        `${o.publicKey} is not a PEM public key (${(err as Error).message}): openssl pkey -in broker.key -pubout -out broker.pub`,
        EXIT.USAGE,
      );
    }
    const days = o.days === undefined ? undefined : Number(o.days);
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650))
      throw new CliError('USAGE', `--days expects 1 to 3650, got '${o.days}'`, EXIT.USAGE);
    const r = await answer(
      api(o).ca['server-certificates'].$post({ json: { hosts: o.host, publicKey, ...(days ? { validityDays: days } : {}) } }),
    );
    if (o.out) writeFileSync(o.out, r.certificate);
    if (o.json) return emit(o, { ...r, ...(o.out ? { written: o.out } : {}) }, () => '');
    if (o.out) process.stderr.write(`wrote ${o.out}: serial ${r.serial}, valid until ${r.notAfter}\n`);
    else process.stdout.write(r.certificate);
  });
}
