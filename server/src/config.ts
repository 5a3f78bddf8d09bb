// Server configuration: flags win over environment variables, which win over defaults.
import { resolve } from 'node:path';
import type { BrokerLimits } from './broker/broker-limits.ts';

export interface ServerConfig {
  /** Data folder: SQLite file, blobs, keys, admin token. Default ./.flotilla (or FLOTILLA_DATA). */
  dataDir: string;
  /** HTTP host to bind (default 127.0.0.1; use 0.0.0.0 to serve a network). */
  host: string;
  /** HTTP port (default 8080; 0 picks a free one). */
  port: number;
  /** MQTT TCP port (default 1883; 0 picks a free one). */
  mqttPort: number;
  /** MQTT over TLS port (default 8883; 0 picks a free one); used only with a certificate and key. */
  mqttsPort: number;
  /** PEM certificate file: with `tlsKey`, MQTT over TLS, HTTPS and WSS (env FLOTILLA_TLS_CERT). */
  tlsCert?: string;
  /** PEM private key file (env FLOTILLA_TLS_KEY). */
  tlsKey?: string;
  /** Broker bounds to change from their defaults (JSON in env FLOTILLA_BROKER_LIMITS); see broker-limits.ts. */
  brokerLimits?: Partial<BrokerLimits>;
  /**
   * External MQTT broker (Mosquitto 2 with dynamic security), `mqtt://[user:password@]host:port`, instead
   * of the embedded one (env FLOTILLA_MQTT_URL); see docs/external-broker.md.
   */
  mqttUrl?: string;
  /** The broker's dynsec admin user and password, unless in `mqttUrl` (env FLOTILLA_MQTT_ADMIN_USER, FLOTILLA_MQTT_ADMIN_PASSWORD). */
  mqttAdminUser?: string;
  mqttAdminPassword?: string;
  /** The broker URL devices are told, when it differs from `mqttUrl` (env FLOTILLA_MQTT_PUBLIC_URL). */
  mqttPublicUrl?: string;
  /** Store URI (default: SQLite under the data folder). */
  store?: string;
  /**
   * Folder for what every server process must see alike: the bundle signing key (`keys/`) and the
   * retraining policies. Default: the data folder. Several processes point it at one shared folder.
   */
  sharedDir?: string;
  /** Blob store URI: `s3://BUCKET/PREFIX?endpoint=URL&region=R` (default: files under the data folder). */
  blobs?: string;
  /** The operator's CA certificate and key (PEM) for mTLS instead of the one made under `<keys>/` (env FLOTILLA_CA_CERT, FLOTILLA_CA_KEY). */
  caCert?: string;
  caKey?: string;
  /** mTLS on the embedded broker's MQTT-over-TLS listener (env FLOTILLA_MTLS=1); docs/identity.md. */
  mtls?: boolean;
  /**
   * Rotate each device credential once it is older than this, in ms (`--rotate-every 30d`, env
   * FLOTILLA_ROTATE_EVERY); spread over time, see devices/rotation-schedule.ts. Default: no schedule.
   */
  rotateEveryMs?: number;
  /** Training runs at once (default 1). */
  maxConcurrentRuns: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export function resolveConfig(flags: Partial<ServerConfig> & { data?: string }, env = process.env): ServerConfig {
  if (!(flags.caCert ?? env.FLOTILLA_CA_CERT) !== !(flags.caKey ?? env.FLOTILLA_CA_KEY))
    throw new Error('--ca-cert and --ca-key go together: give both (or neither, to use the CA made under <data>/keys)');
  const int = (v: unknown, d: number) => (v === undefined || v === '' ? d : Number(v));
  return {
    dataDir: resolve(flags.dataDir ?? flags.data ?? env.FLOTILLA_DATA ?? '.flotilla'),
    host: flags.host ?? env.FLOTILLA_HOST ?? '127.0.0.1',
    port: int(flags.port ?? env.FLOTILLA_PORT, 8080),
    mqttPort: int(flags.mqttPort ?? env.FLOTILLA_MQTT_PORT, 1883),
    mqttsPort: int(flags.mqttsPort ?? env.FLOTILLA_MQTTS_PORT, 8883),
    tlsCert: flags.tlsCert ?? (env.FLOTILLA_TLS_CERT || undefined),
    tlsKey: flags.tlsKey ?? (env.FLOTILLA_TLS_KEY || undefined),
    brokerLimits:
      flags.brokerLimits ?? (env.FLOTILLA_BROKER_LIMITS ? (JSON.parse(env.FLOTILLA_BROKER_LIMITS) as Partial<BrokerLimits>) : undefined),
    ...externalBroker(flags, env),
    store: flags.store ?? env.FLOTILLA_STORE,
    blobs: flags.blobs ?? (env.FLOTILLA_BLOBS || undefined),
    sharedDir: (flags.sharedDir ?? env.FLOTILLA_SHARED_DIR) ? resolve((flags.sharedDir ?? env.FLOTILLA_SHARED_DIR)!) : undefined,
    caCert: flags.caCert ?? (env.FLOTILLA_CA_CERT || undefined),
    caKey: flags.caKey ?? (env.FLOTILLA_CA_KEY || undefined),
    mtls: flags.mtls ?? env.FLOTILLA_MTLS === '1',
    rotateEveryMs:
      flags.rotateEveryMs ?? (env.FLOTILLA_ROTATE_EVERY ? durationMs(env.FLOTILLA_ROTATE_EVERY, 'FLOTILLA_ROTATE_EVERY') : undefined),
    maxConcurrentRuns: int(flags.maxConcurrentRuns ?? env.FLOTILLA_MAX_RUNS, 1),
    logLevel: (flags.logLevel ?? env.FLOTILLA_LOG_LEVEL ?? 'info') as ServerConfig['logLevel'],
  };
}

/** `30d`, `12h`, `90m`, `45s` → ms; anything else fails at start with what to write instead. */
export function durationMs(text: string, what = '--rotate-every'): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new Error(`${what} '${text}' is not a duration: write N followed by s, m, h or d (e.g. 30d)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's'];
}

type BrokerFields = Pick<ServerConfig, 'mqttUrl' | 'mqttAdminUser' | 'mqttAdminPassword' | 'mqttPublicUrl'>;

/** The external broker settings, checked here so that a typo fails at start with a clear message. */
function externalBroker(flags: Partial<ServerConfig>, env: NodeJS.ProcessEnv): BrokerFields {
  const mqttUrl = flags.mqttUrl ?? (env.FLOTILLA_MQTT_URL || undefined);
  if (!mqttUrl) return {};
  let url: URL;
  try {
    url = new URL(mqttUrl);
  } catch {
    throw new Error(`--mqtt-url is not a URL (expected mqtt://[user:password@]host:port)`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:')
    throw new Error(`--mqtt-url must start with mqtt:// or mqtts://, not ${url.protocol}//`);
  const mqttAdminUser =
    flags.mqttAdminUser ?? (env.FLOTILLA_MQTT_ADMIN_USER || undefined) ?? (decodeURIComponent(url.username) || undefined);
  const mqttAdminPassword =
    flags.mqttAdminPassword ?? (env.FLOTILLA_MQTT_ADMIN_PASSWORD || undefined) ?? (decodeURIComponent(url.password) || undefined);
  if (!mqttAdminUser || !mqttAdminPassword) {
    throw new Error(
      'an external broker needs its dynamic-security admin credentials: in FLOTILLA_MQTT_URL (mqtt://user:password@host:port), or --mqtt-admin-user with --mqtt-admin-password-file FILE (or FLOTILLA_MQTT_ADMIN_USER, FLOTILLA_MQTT_ADMIN_PASSWORD)',
    );
  }
  return { mqttUrl, mqttAdminUser, mqttAdminPassword, mqttPublicUrl: flags.mqttPublicUrl ?? (env.FLOTILLA_MQTT_PUBLIC_URL || undefined) };
}
