// Wires the fleet side of the server: device registry, embedded broker, desired state, bundles,
// chunk service and their metrics. main.ts opens it before serving HTTP and starts it after, since
// the broker also listens for WebSocket upgrades on the HTTP server.
import type { Server as HttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PREFIX } from '@flotilla/firmware-bundler/wire';
import type { FleetServices } from '../api/routes/fleet-services.ts';
import type { BlobStore } from '../blob/blob-store.ts';
import type { BrokerEndpoints, BrokerLink } from '../broker/broker-link.ts';
import { resolveBrokerLimits, type BrokerLimits } from '../broker/broker-limits.ts';
import { DEVICE_COUNTERS } from '../broker/device-counters.ts';
import { EmbeddedAedesBroker } from '../broker/embedded-aedes-broker.ts';
import { MosquittoDynsecLink } from '../broker/mosquitto-dynsec-link.ts';
import { loadOrCreateCredentialKey } from '../devices/credential-key.ts';
import { DeviceService } from '../devices/device-service.ts';
import { EnrollmentService } from '../devices/enrollment-service.ts';
import { RotationSchedule } from '../devices/rotation-schedule.ts';
import { DeviceCertificates } from '../devices/device-certificates.ts';
import { loadOrCreateCa } from '../devices/flotilla-ca.ts';
import { generateKeyPairSync } from 'node:crypto';
import { DeviceStateIngest } from '../devices/device-state-ingest.ts';
import type { Logger } from '../log/logger.ts';
import { registerProcessMetrics } from '../metrics/process-metrics.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import type { Store } from '../store/store.ts';
import { BundleService } from '../delivery/bundle-service.ts';
import { ChunkService } from '../delivery/chunk-service.ts';
import { DeliveryService } from '../delivery/delivery-service.ts';
import { KeyRing } from '../delivery/key-ring.ts';
import type { StatusEvent } from '@flotilla/firmware-bundler/wire';
import type { BundleExtrasFn } from '../delivery/bundle-service.ts';
import type { BundleManifest } from '@flotilla/firmware-bundler';
import type { BundleRecord } from '../store/entities.ts';

export interface FleetConfig {
  dataDir: string;
  /** Where the signing keys and trust.json live (`<sharedDir>/keys`); default the data folder. */
  sharedDir?: string;
  host: string;
  mqttPort: number;
  /** MQTT over TLS port, used when `tls` is set. */
  mqttsPort: number;
  /** Certificate and key files (PEM) for MQTT over TLS, WSS and HTTPS. */
  tls?: { certFile: string; keyFile: string };
  brokerLimits?: Partial<BrokerLimits>;
  /** An external Mosquitto 2 with dynamic security instead of the embedded broker (docs/external-broker.md). */
  externalBroker?: { url: string; username: string; password: string; publicUrl?: string };
  /** The operator's CA (PEM files) instead of the one made under `<keys>/`; see devices/flotilla-ca.ts. */
  ca?: { certFile: string; keyFile: string };
  /**
   * mTLS on the embedded broker's MQTT-over-TLS listener: only clients with a certificate from the Flotilla
   * CA (CN = device id). Without `tls`, the broker's own server certificate is issued by that CA.
   */
  mtls?: boolean;
  /** Scheduled credential rotation period (devices/rotation-schedule.ts); none when absent. */
  rotateEveryMs?: number;
  /** Deployment status events from devices, for the rollout engine. */
  onStatus?: (deviceId: string, event: StatusEvent) => Promise<unknown> | void;
  /** Manifest fields computed from the registry for every new bundle (labels, profile, self-tests, ...). */
  bundleExtras?: BundleExtrasFn;
  /** Called once a bundle is stored (monitoring registers its reference profile). */
  onBundle?: (b: BundleRecord, manifest: BundleManifest) => Promise<void>;
}

export interface Fleet {
  services: FleetServices;
  /** Starts the broker (WebSocket on `http` at /mqtt), re-publishes desired states, starts ingest and chunks. */
  start(http: HttpServer, httpUrl: string): Promise<BrokerEndpoints>;
  /** Stops taking device traffic, flushes, and closes the broker. */
  close(): Promise<void>;
}

export async function openFleet(config: FleetConfig, store: Store, blobs: BlobStore, log: Logger): Promise<Fleet> {
  const prefix = DEFAULT_PREFIX;
  const keyHome = config.sharedDir ?? config.dataDir;
  const keys = await KeyRing.open(keyHome);
  if (keys.created) log.info('created the bundle signing key', { keyId: keys.active().keyId, dir: `${keyHome}/keys` });
  else if (keys.version > 0)
    log.info('bundle signing keys', { active: keys.active().keyId, trustVersion: keys.version, trusted: keys.list().length });
  const credentialKey = await loadOrCreateCredentialKey(join(keyHome, 'keys'));
  const devices = new DeviceService({ store, log, prefix, credentialKey });
  const certificates = new DeviceCertificates({ ca: () => loadOrCreateCa(join(keyHome, 'keys'), config.ca), store });
  const tls = config.tls
    ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), port: config.mqttsPort }
    : undefined;
  const mtls = config.mtls ? await brokerMtls(certificates, tls, config.host, config.mqttsPort) : undefined;
  const limits = resolveBrokerLimits(config.brokerLimits);
  const ext = config.externalBroker;
  const embedded = ext
    ? null
    : new EmbeddedAedesBroker({
        authority: devices,
        log: log.child({ svc: 'broker' }),
        prefix,
        limits,
        host: config.host,
        mqttPort: config.mqttPort,
        tls: mtls ?? tls,
      });
  const broker: BrokerLink =
    embedded ??
    new MosquittoDynsecLink({
      url: ext!.url,
      username: ext!.username,
      password: ext!.password,
      publicUrl: ext!.publicUrl,
      log: log.child({ svc: 'broker' }),
      prefix,
      registry: async (after, limit) => devices.list({ after: after ?? undefined, limit }),
    });
  devices.attachBroker(broker);
  const enrollments = new EnrollmentService({
    store,
    log: log.child({ svc: 'enroll' }),
    key: credentialKey,
    sync: () => broker.credentials,
  });
  const delivery = new DeliveryService({ store, link: broker, log, prefix, trust: () => keys.trust() });
  const bundles = new BundleService({ store, blobs, keys, extras: config.bundleExtras, onCreated: config.onBundle });
  const metrics = new MetricsRegistry();
  const stopProcessMetrics = registerProcessMetrics(metrics);
  const served = metrics.counter('flotilla_chunk_bytes_served_total', 'Blob bytes served to devices, by transport');
  const chunks = new ChunkService({
    link: broker,
    blobs,
    delivery,
    log,
    prefix,
    maxConcurrentTransfers: limits.maxConcurrentTransfers,
    window: limits.chunkWindow,
    maxResponseBytes: limits.maxChunkResponseBytes,
    onServed: (n) => served.inc({ transport: 'mqtt' }, n),
  });
  const ingest = new DeviceStateIngest({ store, link: broker, log, prefix, onStatus: (id, e) => config.onStatus?.(id, e) });
  registerBrokerMetrics(metrics, broker, chunks);
  // A tick a tenth of the period (at most a minute) keeps a short test period responsive and a month cheap.
  const period = config.rotateEveryMs;
  const schedule = period
    ? new RotationSchedule({
        periodMs: period,
        tickMs: Math.min(60_000, Math.max(100, Math.floor(period / 10))),
        store: store.devices,
        log: log.child({ svc: 'rotation' }),
        rotate: (ids, overlapMs) => devices.rotate({ ids }, 'schedule', overlapMs),
      })
    : null;
  devices.setRotationSchedule(schedule ? (at) => schedule.nextRotationAt(at) : null);

  const services: FleetServices = {
    devices,
    enrollments,
    certificates,
    bundles,
    delivery,
    broker,
    keys,
    metrics,
    onHttpBlobBytes: (n) => served.inc({ transport: 'http' }, n),
  };
  let started = false;
  return {
    services,
    async start(http, httpUrl) {
      embedded?.attachHttp(http, httpUrl);
      const endpoints = await broker.start();
      started = true;
      await ingest.start();
      await chunks.start();
      const n = await delivery.republishAll();
      schedule?.start();
      log.info('mqtt listening', { ...endpoints, desiredRepublished: n });
      return endpoints;
    },
    async close() {
      stopProcessMetrics();
      if (!started) return;
      await schedule?.stop();
      await chunks.close();
      await ingest.close();
      await broker.close();
    },
  };
}

/** The mqtts listener's settings under mTLS: the given certificate, or one the Flotilla CA issues now. */
async function brokerMtls(
  certs: DeviceCertificates,
  tls: { cert: Buffer; key: Buffer; port: number } | undefined,
  host: string,
  port: number,
) {
  const ca = await certs.ca();
  if (tls) return { ...tls, clientCa: ca.certificate };
  // A fresh key each start: nothing to keep on disk, and devices pin the CA, not this certificate.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const hosts = [...new Set([host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, '127.0.0.1', 'localhost'])];
  const issued = await certs.issueServer(hosts, publicKey);
  return { cert: issued.certificate, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, port, clientCa: ca.certificate };
}

function registerBrokerMetrics(m: MetricsRegistry, broker: BrokerLink, chunks: ChunkService): void {
  const unavailable = new Set(broker.unavailableStats ?? []);
  // A stat the back end cannot observe is left out of /metrics rather than reported as a false 0.
  const stat = (k: keyof ReturnType<typeof broker.stats>) => () => (unavailable.has(k) ? [] : broker.stats()[k]);
  m.gauge('flotilla_mqtt_connected_devices', 'Devices connected to the broker now', stat('connectedDevices'));
  m.gauge('flotilla_mqtt_pending_connections', 'Connections not yet authenticated', stat('pendingConnections'));
  m.gauge('flotilla_mqtt_messages_in_total', 'MQTT messages received from clients', stat('messagesIn'), 'counter');
  m.gauge('flotilla_mqtt_messages_out_total', 'MQTT messages delivered to clients', stat('messagesOut'), 'counter');
  m.gauge('flotilla_mqtt_bytes_in_total', 'Bytes received on MQTT connections', stat('bytesIn'), 'counter');
  m.gauge('flotilla_mqtt_bytes_out_total', 'Bytes sent on MQTT connections', stat('bytesOut'), 'counter');
  m.gauge('flotilla_mqtt_connect_refused_total', 'Connections refused (credentials, limits)', stat('connectRefused'), 'counter');
  m.gauge('flotilla_mqtt_frames_refused_total', 'Connections dropped for oversized or trickled packets', stat('framesRefused'), 'counter');
  m.gauge(
    'flotilla_mqtt_admission_peak',
    'Most inbound publishes ever being routed at once (the gate holds the rest: BrokerLimits.maxInflightPublishes)',
    stat('admissionPeak'),
  );
  m.gauge('flotilla_mqtt_admission_waits_total', 'Inbound publishes that waited at the admission gate', stat('admissionWaits'), 'counter');
  m.gauge('flotilla_mqtt_drain_timeouts_total', 'Subscribers disconnected for not reading', stat('drainTimeouts'), 'counter');
  for (const name of DEVICE_COUNTERS) {
    const metric = `flotilla_mqtt_device_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
    m.gauge(
      metric,
      `Per device: ${name}`,
      () => {
        const rows: [Record<string, string>, number][] = [];
        for (const [device, c] of broker.counters.entries()) if (c[name] > 0) rows.push([{ device }, c[name]]);
        return rows;
      },
      'counter',
    );
  }
  m.gauge(
    'flotilla_mqtt_refused_total',
    'Refused publishes and subscribes, all devices',
    () => {
      const t = broker.counters.total();
      return [
        [{ kind: 'publish' }, t.publishRefused],
        [{ kind: 'subscribe' }, t.subscribeRefused],
      ];
    },
    'counter',
  );
  m.gauge(
    'flotilla_chunk_requests_total',
    'Chunk requests answered, by outcome',
    () => Object.entries(chunks.answered).map(([outcome, n]) => [{ outcome }, n]),
    'counter',
  );
}
