// Starts a real Mosquitto 2 with its dynamic-security plugin on a free loopback port, with a temporary
// config and dynamic-security.json whose admin user the server then connects as (--mqtt-url).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynsecSeed } from '../../server/src/broker/dynsec-seed.ts';
import { missingTool } from './tools.ts';
import { freePort } from '../../server/src/net/free-port.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
const CTRL = '/usr/bin/mosquitto_ctrl';

/** The plugin's path (Debian puts it under the multiarch lib folder), or null. */
export function dynsecPlugin(): string | null {
  for (const dir of [
    '/usr/lib',
    ...(existsSync('/usr/lib')
      ? readdirSync('/usr/lib')
          .filter((d) => d.endsWith('-linux-gnu'))
          .map((d) => `/usr/lib/${d}`)
      : []),
  ]) {
    const p = join(dir, 'mosquitto_dynamic_security.so');
    if (existsSync(p)) return p;
  }
  return null;
}

/** A skip reason when Mosquitto 2 with dynamic security is not installed (a failure under FLOTILLA_REQUIRE_TOOLS=1). */
export const mosquittoDynsecMissing = () =>
  missingTool(
    'mosquitto 2 with dynamic security',
    existsSync(MOSQUITTO) && existsSync(CTRL) && dynsecPlugin() !== null,
    'apt-get install mosquitto mosquitto-clients',
  );

export interface MosquittoBroker {
  port: number;
  /** The mTLS listener's port, when `tls` was given. */
  tlsPort: number | null;
  /** `mqtt://127.0.0.1:port`, what devices use. */
  url: string;
  adminUser: string;
  adminPassword: string;
  /** `mqtt://admin:password@127.0.0.1:port`, for `flotilla server --mqtt-url`. */
  adminUrl: string;
  dir: string;
  proc: ChildProcess;
  logs(): string;
  /** Stops the broker and deletes its folder. */
  stop(): Promise<void>;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

export interface MosquittoOptions {
  /** $SYS statistics interval, s. Default 1. */
  sysIntervalS?: number;
  /** Device clients written into dynamic-security.json before start (fast for large fleets). */
  devices?: readonly { deviceId: string; token: string; groups: readonly string[] }[];
  /**
   * A second listener on MQTT over TLS that requires client certificates from `cafile` and takes the
   * certificate's CN as the username (mTLS with the Flotilla CA, docs/external-broker.md).
   */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /** Changes the seeded dynamic-security document before it is written (e.g. roles as an older server made them). */
  editSeed?: (doc: Record<string, unknown>) => void;
}

export async function startMosquitto(o: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const plugin = dynsecPlugin();
  if (!plugin) throw new Error('mosquitto_dynamic_security.so not found (apt-get install mosquitto)');
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-mosquitto-'));
  const adminUser = 'flotilla-admin';
  const adminPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const dynsec = join(dir, 'dynamic-security.json');
  if (o.devices) {
    const doc = dynsecSeed({ prefix: 'flotilla/v1', admin: { username: adminUser, password: adminPassword }, devices: o.devices });
    o.editSeed?.(doc);
    writeFileSync(dynsec, JSON.stringify(doc));
  } else {
    const init = spawnSync(CTRL, ['dynsec', 'init', dynsec, adminUser, adminPassword], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
  }
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : null;
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${plugin}`,
      `plugin_opt_config_file ${dynsec}`,
      // Connection events for the server (docs/external-broker.md), and the log for post-mortems.
      'log_dest topic',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      ...(o.tls
        ? [
            `listener ${tlsPort} 127.0.0.1`,
            `cafile ${o.tls.cafile}`,
            `certfile ${o.tls.certfile}`,
            `keyfile ${o.tls.keyfile}`,
            'require_certificate true',
            'use_identity_as_username true',
          ]
        : []),
      'persistence false',
      `sys_interval ${o.sysIntervalS ?? 1}`,
      'max_queued_messages 1000',
      // Run as root (CI containers), Mosquitto would switch to the `mosquitto` user, who cannot write the plugin's file here.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  const proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  // A test process that ends without stop() (a crash, a timeout) must not leave brokers behind.
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  proc.once('exit', () => process.off('exit', kill));
  let log = '';
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-200_000)));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`mosquitto did not start on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    adminUser,
    adminPassword,
    adminUrl: `mqtt://${adminUser}:${encodeURIComponent(adminPassword)}@127.0.0.1:${port}`,
    dir,
    proc,
    logs: () => log,
    async stop() {
      if (proc.exitCode === null) {
        await new Promise<void>((r) => {
          proc.once('exit', () => r());
          proc.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
