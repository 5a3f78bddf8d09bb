// Composition root of the server: reads config, opens the seams, wires the services, serves HTTP.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './api/app.ts';
import { ConversionService } from './conversion/conversion-service.ts';
import { bootstrapAdmin, type AdminBootstrap } from './auth/bootstrap-admin.ts';
import { FileBlobStore } from './blob/file-blob-store.ts';
import type { ServerConfig } from './config.ts';
import { openFleet } from './delivery/fleet.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { RunService } from './runs/run-service.ts';
import { SweepService } from './runs/sweep-service.ts';
import { DatasetService } from './services/dataset-service.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';

export interface RunningServer {
  url: string;
  port: number;
  /** MQTT endpoints: `mqtt://`, `mqtts://` (with TLS, else null), and WebSocket at `/mqtt`. */
  mqttUrl: string;
  mqttsUrl: string | null;
  wsUrl: string | null;
  config: ServerConfig;
  admin: AdminBootstrap;
  store: Store;
  log: Logger;
  /** Stops accepting, lets in-flight work end, closes the store. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const log = createLogger(config.logLevel, { svc: 'flotilla' });
  const store = await openStore(config.store, config.dataDir);
  const blobs = new FileBlobStore(join(config.dataDir, 'blobs'));
  const admin = await bootstrapAdmin(store.tokens, config.dataDir);
  const runs = new RunService({ store, blobs, log, maxConcurrent: config.maxConcurrentRuns });
  const abandoned = await runs.recover();
  if (abandoned > 0) log.warn('runs left unfinished by the previous process were marked failed', { count: abandoned });
  const datasets = new DatasetService(store, blobs);
  await datasets.ensureBuiltins();
  const sweeps = new SweepService(store, runs);
  if (!config.tlsCert !== !config.tlsKey) throw new Error('TLS needs both --tls-cert and --tls-key');
  const tls = config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined;
  const fleet = await openFleet({ dataDir: config.dataDir, host: config.host, mqttPort: config.mqttPort, mqttsPort: config.mqttsPort, tls, brokerLimits: config.brokerLimits }, store, blobs, log);
  const app = createApp({ store, blobs, runs, log, dataDir: config.dataDir, datasets, sweeps, fleet: fleet.services, conversion: new ConversionService(store, blobs) });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const https = tls ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } } : {};
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port, ...https }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info('listening', { url, dataDir: config.dataDir });
  const mqtt = await fleet.start(server as import('node:http').Server, url);

  let closing: Promise<void> | null = null;
  return {
    url, port, ...mqtt, config, admin, store, log,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((r) => server.close(() => r()));
        await fleet.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await httpClosed;
        await runs.close();
        await store.close();
      })();
      return closing;
    },
  };
}
