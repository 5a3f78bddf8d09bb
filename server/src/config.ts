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
  /** Store URI (default: SQLite under the data folder). */
  store?: string;
  /** Training runs at once (default 1). */
  maxConcurrentRuns: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export function resolveConfig(flags: Partial<ServerConfig> & { data?: string }, env = process.env): ServerConfig {
  const int = (v: unknown, d: number) => (v === undefined || v === '' ? d : Number(v));
  return {
    dataDir: resolve(flags.dataDir ?? flags.data ?? env.FLOTILLA_DATA ?? '.flotilla'),
    host: flags.host ?? env.FLOTILLA_HOST ?? '127.0.0.1',
    port: int(flags.port ?? env.FLOTILLA_PORT, 8080),
    mqttPort: int(flags.mqttPort ?? env.FLOTILLA_MQTT_PORT, 1883),
    mqttsPort: int(flags.mqttsPort ?? env.FLOTILLA_MQTTS_PORT, 8883),
    tlsCert: flags.tlsCert ?? (env.FLOTILLA_TLS_CERT || undefined),
    tlsKey: flags.tlsKey ?? (env.FLOTILLA_TLS_KEY || undefined),
    brokerLimits: flags.brokerLimits ?? (env.FLOTILLA_BROKER_LIMITS ? (JSON.parse(env.FLOTILLA_BROKER_LIMITS) as Partial<BrokerLimits>) : undefined),
    store: flags.store ?? env.FLOTILLA_STORE,
    maxConcurrentRuns: int(flags.maxConcurrentRuns ?? env.FLOTILLA_MAX_RUNS, 1),
    logLevel: (flags.logLevel ?? env.FLOTILLA_LOG_LEVEL ?? 'info') as ServerConfig['logLevel'],
  };
}
