// Composition root of the server: reads config, opens the seams, wires the services, serves HTTP.
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './api/app.ts';
import { ConversionService } from './conversion/conversion-service.ts';
import { bootstrapAdmin, type AdminBootstrap } from './auth/bootstrap-admin.ts';
import { openBlobStore } from './blob/open-blob-store.ts';
import type { ServerConfig } from './config.ts';
import { openFleet } from './wiring/fleet.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { RunService } from './runs/run-service.ts';
import { SweepService } from './runs/sweep-service.ts';
import { DatasetCatalog } from './datasets/dataset-catalog.ts';
import { openStore } from './wiring/open-store.ts';
import { bundleExtras } from './delivery/bundle-extras.ts';
import { MonitoringService } from './monitoring/monitoring-service.ts';
import { TelemetryIngest } from './monitoring/telemetry-ingest.ts';
import { referenceFromManifest } from './monitoring/model-reference.ts';
import { TrainerFileShelf } from './retraining/trainer-files.ts';
import { DEFAULT_SILENT_SEC, RolloutEngine, startRolloutTicker, type RolloutEngine as Engine } from './rollouts/index.ts';
import { bundleResolver, desiredStatePort, deviceDirectory, healthPort } from './wiring/rollout-adapters.ts';
import { DEFAULT_PREFIX } from '@flotilla/firmware-bundler/wire';
import type { Store } from './store/store.ts';
import { importPolicyFile } from './retraining/policy-file-import.ts';
import { makeDataPrivate } from './wiring/private-data.ts';
import { RetrainingService } from './retraining/retraining-service.ts';
import { SamplesIngest } from './retraining/samples-ingest.ts';
import { retentionFromEnv, SampleRetention } from './retraining/sample-retention.ts';
import { DeviceEventRetention, deviceEventDaysFromEnv } from './devices/device-event-retention.ts';
import { leaseGate, newHolderId } from './store/lease.ts';
import { openSideStores } from './wiring/side-stores.ts';
import { openEvents } from './wiring/events.ts';

export interface RunningServer {
  url: string;
  port: number;
  /** MQTT endpoints: `mqtt://`, `mqtts://` (with TLS, else null), and WebSocket at `/mqtt`. */
  mqttUrl: string;
  mqttsUrl: string | null;
  wsUrl: string | null;
  config: ServerConfig;
  admin: AdminBootstrap;
  /** The bundle signing key's id and fingerprint, printed at start for operators to give agents. */
  signingKey: { keyId: string; fingerprint: string };
  store: Store;
  log: Logger;
  /** Stops accepting, lets in-flight work end, closes the store. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  makeDataPrivate([config.dataDir, ...(config.sharedDir ? [config.sharedDir] : [])]);
  const log = createLogger(config.logLevel, { svc: 'flotilla' });
  const store = await openStore(config.store, config.dataDir);
  const blobs = openBlobStore(config.blobs, config.dataDir);
  const admin = await bootstrapAdmin(store.tokens, config.dataDir);
  const runs = new RunService({ store, blobs, log, maxConcurrent: config.maxConcurrentRuns });
  const abandoned = await runs.recover();
  if (abandoned > 0) log.warn('runs left unfinished by the previous process were marked failed', { count: abandoned });
  const datasets = new DatasetCatalog(store, blobs);
  await datasets.ensureBuiltins();
  const sweeps = new SweepService(store, runs);
  if (!config.tlsCert !== !config.tlsKey) throw new Error('TLS needs both --tls-cert and --tls-key');
  const tls = config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined;
  // Telemetry, field samples and leases: SQLite files here, or the shared PostgreSQL database (docs/postgres.md).
  const side = await openSideStores(config.store, config.dataDir);
  const holder = newHolderId();
  // Events (docs/events.md): from here on, registry, bundle, rollout, alert and retraining changes are published.
  const events = await openEvents({ storeUri: config.store, dataDir: config.dataDir, store, leases: side.leases, holder, log });
  const monitoring = await MonitoringService.open({ store: side.telemetry, log, validateSchema: false });
  monitoring.startRetention();
  let engine: Engine | null = null;
  let brokerEndpoints: import('./broker/broker-link.ts').BrokerEndpoints | null = null;
  const fleet = await openFleet(
    {
      dataDir: config.dataDir,
      sharedDir: config.sharedDir,
      host: config.host,
      mqttPort: config.mqttPort,
      mqttsPort: config.mqttsPort,
      tls,
      brokerLimits: config.brokerLimits,
      rotateEveryMs: config.rotateEveryMs,
      mtls: config.mtls,
      ca: config.caCert && config.caKey ? { certFile: config.caCert, keyFile: config.caKey } : undefined,
      externalBroker: config.mqttUrl
        ? { url: config.mqttUrl, username: config.mqttAdminUser!, password: config.mqttAdminPassword!, publicUrl: config.mqttPublicUrl }
        : undefined,
      onStatus: (id, e) =>
        engine?.recordStatus(id, {
          bundleId: e.bundleId,
          from: e.from,
          to: e.to,
          event: e.event,
          reason: e.reason,
          at: e.at,
          seq: e.seq,
          waiting: e.waiting,
          permanent: e.permanent,
          retryAt: e.retryAt,
        }),
      bundleExtras: (mv, artifact) => bundleExtras(store, blobs, mv, artifact),
      onBundle: (_b, m) => {
        // The manifest's profile, with the cohort profiles a retrain on some cohorts' field data added.
        const { key, reference } = referenceFromManifest(m);
        return monitoring.setReference(
          key,
          { features: reference.features },
          reference.labels,
          reference.cohorts ? { cohorts: reference.cohorts } : {},
        );
      },
    },
    store,
    blobs,
    log,
  );
  engine = new RolloutEngine({
    store: store.rollouts,
    audit: store.audit,
    devices: deviceDirectory(store),
    desired: desiredStatePort(fleet.services.delivery),
    health: healthPort(monitoring),
    bundles: bundleResolver(store),
    mutex: side.rolloutMutex,
    actor: `engine@${holder}`,
    events: events.bus,
    // FLOTILLA_ROLLOUT_STALL_REPORT_SEC: how long a device's storage may fail before `rollout.device_stalled` (default 600).
    stallReportSec:
      Number(process.env.FLOTILLA_ROLLOUT_STALL_REPORT_SEC) >= 0 && process.env.FLOTILLA_ROLLOUT_STALL_REPORT_SEC
        ? Number(process.env.FLOTILLA_ROLLOUT_STALL_REPORT_SEC)
        : undefined,
    // FLOTILLA_ROLLOUT_SILENT_SEC: how long a notified device may stay silent before the rollout marks it stalled (default 900).
    silentSec: Number(process.env.FLOTILLA_ROLLOUT_SILENT_SEC) > 0 ? Number(process.env.FLOTILLA_ROLLOUT_SILENT_SEC) : DEFAULT_SILENT_SEC,
  });
  // FLOTILLA_ROLLOUT_TICK_MS: simulated fleets and tests bake for seconds, so the default 5 s tick dominates.
  const tickMs = Number(process.env.FLOTILLA_ROLLOUT_TICK_MS) > 0 ? Number(process.env.FLOTILLA_ROLLOUT_TICK_MS) : 5000;
  // Once-only work runs in the process holding its lease; a TTL of three rounds survives a slow round.
  const leaseError = (e: unknown) => log.warn('lease check failed', { err: String(e) });
  const rolloutLease = leaseGate(side.leases, 'rollouts', holder, 3 * tickMs, leaseError);
  const retrainingLease = leaseGate(side.leases, 'retraining', holder, 3 * 30_000, leaseError);
  const ticker = startRolloutTicker(engine, {
    intervalMs: tickMs,
    lease: rolloutLease.check,
    onReport: (r) => {
      if (r.errors.length) log.warn('rollout tick', { errors: r.errors });
    },
    onError: (e) => log.error('rollout tick failed', { err: String((e as Error)?.stack ?? e) }),
  });
  const telemetry = new TelemetryIngest({ link: fleet.services.broker, store, monitoring, log, prefix: DEFAULT_PREFIX });
  fleet.services.metrics.gauge(
    'flotilla_telemetry_windows_refused_total',
    'Telemetry windows acknowledged but not stored, by reason (invalid; model_not_given; overlapping: their interval was credited before)',
    () => [
      [{ reason: 'invalid' }, telemetry.invalid],
      [{ reason: 'model_not_given' }, telemetry.refused],
      [{ reason: 'overlapping' }, telemetry.overlapping],
    ],
    'counter',
  );
  fleet.services.metrics.gauge(
    'flotilla_telemetry_windows_trimmed_total',
    'Telemetry windows credited only for the part of their interval not credited before',
    () => telemetry.trimmed,
    'counter',
  );
  const conversion = new ConversionService(store, blobs);
  const fieldSamples = side.samples;
  const samplesIngest = new SamplesIngest({ link: fleet.services.broker, store, samples: fieldSamples, log, prefix: DEFAULT_PREFIX });
  // Outside trainers download their job's files from this process: FLOTILLA_PUBLIC_URL when they reach it by
  // another name (a load balancer, another host), else the URL it listens on (set once it listens).
  let apiBase: string | null = null;
  // Policies of older servers were a JSON file in the data (or shared) folder: moved into the store once.
  await importPolicyFile(config.sharedDir ?? config.dataDir, side.retraining, log);
  const retraining = new RetrainingService({
    store,
    blobs,
    samples: fieldSamples,
    runs,
    conversion,
    retrainingStore: side.retraining,
    holder,
    soleProcess: side.soleProcess,
    log,
    triggerLease: retrainingLease.check,
    events: events.bus,
    trainerFiles: new TrainerFileShelf(() => apiBase),
    startCanary: async (ref, actor) => {
      // A blessed challenger has no bundle yet: build one (version `<registry version>.0.0`) so the canary can start.
      const mv = await store.models.resolve(ref);
      if (mv && !(await store.bundles.list({ model: mv.model, limit: 500 })).some((b) => b.modelVersion === mv.version))
        await fleet.services.bundles.create({ model: ref }, actor);
      return engine!.create(
        { model: ref, target: { all: true }, stages: [{ percent: 10 }, { percent: 100 }], reason: 'blessed retrain challenger' },
        actor,
      );
    },
  });
  const stopRetrainOnAlert = monitoring.onAlert((c) => retraining.onAlert(c));
  const stopAlertEvents = monitoring.onAlert((c) => events.onAlert(c));
  // Jobs a stopped process left running read `interrupted` from here on (docs/bring-your-own-model.md).
  await retraining.recover();
  retraining.startTriggers();
  const app = createApp({
    store,
    blobs,
    runs,
    log,
    dataDir: config.dataDir,
    datasets,
    sweeps,
    fleet: fleet.services,
    conversion,
    monitoring,
    rollouts: engine,
    retraining,
    brokerEndpoints: () => brokerEndpoints,
    events: { log: events.bus.log, bus: events.bus, webhooks: events.webhooks },
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const https = tls
      ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } }
      : {};
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port, ...https }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info('listening', { url, dataDir: config.dataDir });
  apiBase = `${(process.env.FLOTILLA_PUBLIC_URL || url).replace(/\/+$/, '')}/api/v1`;
  const mqtt = await fleet.start(server as import('node:http').Server, url);
  brokerEndpoints = mqtt;
  await telemetry.start();
  await samplesIngest.start();
  const sampleRetention = new SampleRetention({ samples: fieldSamples, limits: retentionFromEnv(), log });
  sampleRetention.start();
  // Device timelines: the newest 500 per device as events arrive, and nothing older than the retention age.
  const eventRetention = new DeviceEventRetention({ store: store.devices, maxAgeMs: deviceEventDaysFromEnv() * 86_400_000, log });
  eventRetention.start();

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    ...mqtt,
    config,
    admin,
    store,
    log,
    signingKey: { keyId: fleet.services.keys.active().keyId, fingerprint: fleet.services.keys.active().fingerprint },
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((r) => server.close(() => r()));
        await ticker.stop();
        await rolloutLease.release();
        await telemetry.close();
        stopRetrainOnAlert();
        stopAlertEvents();
        sampleRetention.stop();
        await eventRetention.stop();
        await samplesIngest.close();
        await retraining.close();
        await retrainingLease.release();
        await fleet.close();
        await monitoring.close();
        await events.close();
        await side.close();
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await httpClosed;
        await runs.close();
        await store.close();
      })();
      return closing;
    },
  };
}
