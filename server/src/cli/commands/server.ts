// `flotilla server`: the whole system on embedded defaults (SQLite, blob files, training workers).
import type { Command } from 'commander';
import { durationMs, resolveConfig } from '../../config.ts';
import { readSecretFile, SECRETS_HELP } from '../secret-flags.ts';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('Start the Flotilla server with embedded defaults (no external services)')
    .option('--data <dir>', 'data folder (env FLOTILLA_DATA; default ./.flotilla)')
    .option('--host <host>', 'HTTP address to bind (default 127.0.0.1)')
    .option('--port <n>', 'HTTP port (default 8080; 0 = any free port)')
    .option('--mqtt-port <n>', 'MQTT TCP port (default 1883; 0 = any free port)')
    .option('--mqtts-port <n>', 'MQTT over TLS port, used with --tls-cert/--tls-key (default 8883; 0 = any free port)')
    .option('--tls-cert <file>', 'PEM certificate: enables MQTT over TLS, HTTPS and WSS (env FLOTILLA_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert (env FLOTILLA_TLS_KEY)')
    .option('--broker-limits <json>', 'broker bounds to override, e.g. \'{"drainTimeoutMs":5000}\' (env FLOTILLA_BROKER_LIMITS)')
    .option(
      '--mqtt-url <url>',
      'external broker (Mosquitto 2 + dynamic security) instead of the embedded one: mqtt://[user@]host:port; a URL with a password only in env FLOTILLA_MQTT_URL',
    )
    .option('--mqtt-admin-user <name>', 'dynamic-security admin user for --mqtt-url (env FLOTILLA_MQTT_ADMIN_USER)')
    .option('--mqtt-admin-password-file <file>', 'read its password from this file (or env FLOTILLA_MQTT_ADMIN_PASSWORD)')
    .option('--mqtt-public-url <url>', 'broker URL told to devices when not --mqtt-url (env FLOTILLA_MQTT_PUBLIC_URL)')
    .option('--store <uri>', 'metadata store URI (default sqlite under the data folder)')
    .option(
      '--shared-dir <dir>',
      'folder all server processes share: signing key and retraining policies (env FLOTILLA_SHARED_DIR; default the data folder)',
    )
    .option(
      '--blobs <uri>',
      's3://BUCKET/PREFIX?endpoint=URL&region=R keeps blobs in S3-compatible storage, cached under the data folder (env FLOTILLA_BLOBS; credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
    )
    .option(
      '--mtls',
      "MQTT over TLS takes only devices with a client certificate from the Flotilla CA (CN = device id); without --tls-cert the CA also issues the broker's certificate (env FLOTILLA_MTLS=1)",
    )
    .option('--ca-cert <file>', 'your own CA certificate (PEM) instead of the one made under <data>/keys (env FLOTILLA_CA_CERT)')
    .option('--ca-key <file>', 'its private key, P-256 or Ed25519 (env FLOTILLA_CA_KEY)')
    .option(
      '--rotate-every <duration>',
      'rotate each device credential once it is older than this (e.g. 30d), spread over time (env FLOTILLA_ROTATE_EVERY)',
    )
    .option('--log-level <level>', 'debug | info | warn | error | silent (default info)')
    .option('--json', 'print the listening addresses as one JSON line')
    .addHelpText(
      'after',
      `\nA fresh data folder gets an admin token written to <data>/admin-token (mode 0600);\nset FLOTILLA_ADMIN_TOKEN to choose it instead.\n${SECRETS_HELP}`,
    )
    .action(async (o) => {
      const config = resolveConfig({
        data: o.data,
        host: o.host,
        port: o.port === undefined ? undefined : Number(o.port),
        mqttPort: o.mqttPort === undefined ? undefined : Number(o.mqttPort),
        store: o.store,
        blobs: o.blobs,
        sharedDir: o.sharedDir,
        logLevel: o.logLevel,
        mqttsPort: o.mqttsPort === undefined ? undefined : Number(o.mqttsPort),
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
        brokerLimits: o.brokerLimits === undefined ? undefined : JSON.parse(o.brokerLimits),
        mqttUrl: o.mqttUrl,
        mqttAdminUser: o.mqttAdminUser,
        mqttAdminPassword:
          o.mqttAdminPasswordFile === undefined ? undefined : readSecretFile(o.mqttAdminPasswordFile, '--mqtt-admin-password-file'),
        mqttPublicUrl: o.mqttPublicUrl,
        mtls: o.mtls,
        caCert: o.caCert,
        caKey: o.caKey,
        rotateEveryMs: o.rotateEvery === undefined ? undefined : durationMs(o.rotateEvery),
      });
      // Imported here so that `flotilla --help` and the client commands start fast.
      const { startServer } = await import('../../main.ts');
      const s = await startServer(config);
      const info = {
        url: s.url,
        port: s.port,
        mqttUrl: s.mqttUrl,
        mqttsUrl: s.mqttsUrl,
        wsUrl: s.wsUrl,
        dataDir: config.dataDir,
        adminTokenFile: s.admin.tokenFile,
        keyId: s.signingKey.keyId,
        keyFingerprint: s.signingKey.fingerprint,
        store: s.store.kind,
        blobs: config.blobs ? 's3' : 'files',
      };
      if (o.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else {
        process.stdout.write(
          `Flotilla server listening on ${s.url}\n  mqtt: ${[s.mqttUrl, s.mqttsUrl, s.wsUrl].filter(Boolean).join('  ')}\n  data: ${config.dataDir}\n`,
        );
        if (s.admin.tokenFile) process.stdout.write(`  admin token: ${s.admin.tokenFile}${s.admin.created ? ' (new)' : ''}\n`);
        process.stdout.write(`  bundle key: ${s.signingKey.fingerprint} (agents: --trust-fingerprint or FLOTILLA_TRUST_FINGERPRINT)\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = async () => {
          const t = setTimeout(() => process.exit(0), 5000);
          t.unref();
          await s.close();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
