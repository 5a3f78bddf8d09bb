// MosquittoDynsecLink: the BrokerLink on an external Mosquitto 2 with its dynamic-security plugin.
// The broker authenticates and authorizes devices itself from the clients and roles this link
// keeps in step with the registry; the server is one more (privileged) MQTT client.
import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { DEFAULT_PREFIX, DEVICE_PUBLISH, parseDeviceTopic } from '@flotilla/firmware-bundler/wire';
import type { Logger } from '../log/logger.ts';
import type {
  BrokerEndpoints,
  BrokerLink,
  BrokerStats,
  ConnectionListener,
  CredentialSync,
  InboundMessage,
  OutboundMessage,
} from './broker-link.ts';
import { DeviceCounters } from './device-counters.ts';
import { SERVER_ROLE } from './dynsec-acl.ts';
import { DynsecClient } from './dynsec-client.ts';
import { DynsecSync, type ReconcileReport, type RegistryPages } from './dynsec-sync.ts';
import { LOG_TOPIC, parseLogLine } from './mosquitto-log-events.ts';
import { topicMatches } from './topic-filter.ts';

export interface MosquittoLinkOptions {
  /** `mqtt://host:port` or `mqtts://host:port` of the broker; credentials may be in it. */
  url: string;
  /** The server's dynsec user: it needs the plugin's `admin` role (what `mosquitto_ctrl dynsec init` creates). */
  username: string;
  password: string;
  log: Logger;
  registry: RegistryPages;
  /** Topic prefix [WIRE-1.1]. Default `flotilla/v1`. */
  prefix?: string;
  /** The URL devices use, when not the one the server uses (default: `url` without credentials). */
  publicUrl?: string;
  /** Connect timeout, ms. Default 10000. */
  timeoutMs?: number;
  /** How long one control message may take, ms. Default 60000 (each change costs the plugin a file rewrite). */
  controlTimeoutMs?: number;
}

/** Broker-wide counters Mosquitto publishes under $SYS (every `sys_interval`, default 10 s). */
const SYS_STATS = {
  '$SYS/broker/messages/received': 'messagesIn',
  '$SYS/broker/messages/sent': 'messagesOut',
  '$SYS/broker/bytes/received': 'bytesIn',
  '$SYS/broker/bytes/sent': 'bytesOut',
} as const;

/** What Mosquitto does not tell its clients: bounds live in its own config (max_packet_size, ...). */
const UNAVAILABLE: (keyof BrokerStats)[] = ['pendingConnections', 'framesRefused', 'drainTimeouts', 'admissionPeak', 'admissionWaits'];
const DEVICE_LEAVES = new Set<string>(DEVICE_PUBLISH);

type Handler = { filter: string; handler: (msg: InboundMessage) => void };

export class MosquittoDynsecLink implements BrokerLink {
  readonly counters = new DeviceCounters();
  readonly unavailableStats = UNAVAILABLE;
  private readonly prefix: string;
  private mqtt: MqttClient | null = null;
  private dynsec: DynsecClient | null = null;
  private sync: DynsecSync | null = null;
  private readonly handlers = new Set<Handler>();
  private readonly live = new Set<string>();
  private readonly listeners: ConnectionListener[] = [];
  private readonly s = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, connectRefused: 0 };
  /** The last reconcile, for logs and tests. */
  lastReconcile: ReconcileReport | null = null;

  constructor(private readonly opts: MosquittoLinkOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
  }

  /** Registry changes go to the broker's dynsec clients; before start() they fail (the caller undoes them). */
  readonly credentials: CredentialSync = {
    provisioned: (devices) => this.synced().provisioned(devices),
    rotated: (devices) => this.synced().rotated(devices),
    revoked: (deviceId) => this.synced().revoked(deviceId),
    regrouped: (deviceId, groups) => this.synced().regrouped(deviceId, groups),
  };

  async start(): Promise<BrokerEndpoints> {
    const { log } = this.opts;
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const options: IClientOptions = {
      username: this.opts.username,
      password: this.opts.password,
      clientId: `flotilla-server-${randomBytes(4).toString('hex')}`,
      // MQTT 5 for no-local subscriptions: the server does not get its own chunk responses back.
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: timeoutMs,
      keepalive: 30,
    };
    try {
      this.mqtt = await connectAsync(this.opts.url, options, false);
    } catch (err) {
      throw new Error(
        `cannot connect to the MQTT broker at ${redact(this.opts.url)} as '${this.opts.username}': ${(err as Error).message}`,
      );
    }
    const mqtt = this.mqtt;
    mqtt.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.qos, packet.retain));
    mqtt.on('error', (err) => log.warn('mqtt broker connection error', { err: err.message }));
    mqtt.on('offline', () => log.info('mqtt broker connection lost, reconnecting', { url: redact(this.opts.url) }));
    // Connections seen before a gap may have ended unseen: start over from the retained presence
    // that the restored subscriptions deliver again, and from new log lines.
    mqtt.on('connect', () => this.live.clear());
    this.dynsec = new DynsecClient(mqtt, this.opts.controlTimeoutMs ?? 60_000);
    await this.dynsec.start();
    this.sync = new DynsecSync(this.dynsec, this.prefix, log);
    if (!(await this.sync.ensureServerRole(this.opts.username))) await this.grantServerRole();
    await mqtt.subscribeAsync([LOG_TOPIC, ...Object.keys(SYS_STATS)], { qos: 0 });
    const report = await this.sync.reconcile(this.opts.registry);
    this.lastReconcile = report;
    log.info('mosquitto clients reconciled', {
      devices: report.devices,
      missing: report.missing.length,
      removed: report.removed,
      regrouped: report.regrouped,
      upgraded: report.upgraded,
    });
    if (report.missing.length) {
      log.warn('devices without a broker credential cannot connect until they get a new token (docs/external-broker.md)', {
        count: report.missing.length,
        first: report.missing.slice(0, 20),
      });
    }
    const publicUrl = this.opts.publicUrl ?? redact(this.opts.url);
    // WebSocket listeners, if any, are the broker's own configuration: not known here.
    return { mqttUrl: publicUrl, mqttsUrl: publicUrl.startsWith('mqtts:') ? publicUrl : null, wsUrl: null };
  }

  async publish(msg: OutboundMessage): Promise<void> {
    await this.client().publishAsync(msg.topic, Buffer.from(msg.payload as Uint8Array), { qos: msg.qos ?? 1, retain: msg.retain ?? false });
  }

  async subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<() => Promise<void>> {
    const h: Handler = { filter, handler };
    this.handlers.add(h);
    await this.client().subscribeAsync(filter, { qos: 1, nl: true });
    return async () => {
      this.handlers.delete(h);
      if (![...this.handlers].some((o) => o.filter === filter) && this.mqtt?.connected) await this.mqtt.unsubscribeAsync(filter);
    };
  }

  /** Mosquitto 2.0 has no "kick this client" command; disabling and re-enabling the client does it. */
  disconnect(deviceId: string, reason: string): void {
    if (!this.dynsec) return;
    this.opts.log.info('disconnecting device', { device: deviceId, reason });
    this.dynsec
      .send([
        { command: 'disableClient', username: deviceId },
        { command: 'enableClient', username: deviceId },
      ])
      .catch((err: Error) => this.opts.log.warn('could not disconnect device', { device: deviceId, err: err.message }));
  }

  isConnected(deviceId: string): boolean {
    return this.live.has(deviceId);
  }

  onConnection(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  stats(): BrokerStats {
    return {
      ...this.s,
      connectedDevices: this.live.size,
      pendingConnections: 0,
      framesRefused: 0,
      drainTimeouts: 0,
      admissionPeak: 0,
      admissionWaits: 0,
    };
  }

  async close(): Promise<void> {
    this.dynsec?.close();
    await this.mqtt?.endAsync();
    this.mqtt = null;
  }

  private synced(): DynsecSync {
    if (!this.sync) throw new Error('the server is not connected to the MQTT broker yet');
    return this.sync;
  }

  private client(): MqttClient {
    if (!this.mqtt) throw new Error('the Mosquitto link is not started');
    return this.mqtt;
  }

  /** Adding a role to a connected client makes the plugin disconnect it; we wait for the reconnect. */
  private async grantServerRole(): Promise<void> {
    const mqtt = this.client();
    this.opts.log.info('granting the server role to the broker user', { user: this.opts.username });
    const back = new Promise<void>((resolve) => mqtt.once('connect', () => resolve()));
    // The plugin drops the connection before it answers: the answer is never awaited, the reconnection is.
    void this.dynsec!.send([{ command: 'addClientRole', username: this.opts.username, rolename: SERVER_ROLE }]).catch(() => undefined);
    await Promise.race([back, new Promise((r) => setTimeout(r, 10_000))]);
    if (!(await this.sync!.ensureServerRole(this.opts.username)))
      throw new Error(`could not give broker user '${this.opts.username}' the flotilla-server role`);
  }

  private onMessage(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): void {
    if (topic === LOG_TOPIC) return this.onLog(payload.toString('utf8'));
    const stat = SYS_STATS[topic as keyof typeof SYS_STATS];
    if (stat) {
      this.s[stat] = Number(payload.toString('utf8')) || 0;
      return;
    }
    const t = parseDeviceTopic(this.prefix, topic);
    // The broker lets a device publish device → server leaves only under its own id [WIRE-1.3],
    // so the topic names the publisher; everything else is the server's own.
    const clientId = t && DEVICE_LEAVES.has(t.leaf) ? t.deviceId : null;
    if (t && t.leaf === 'presence' && retain) this.seedPresence(t.deviceId, payload);
    const msg: InboundMessage = { topic, payload, qos, retain, clientId };
    for (const h of this.handlers) {
      if (!topicMatches(h.filter, topic)) continue;
      try {
        h.handler(msg);
      } catch (err) {
        this.opts.log.error('mqtt handler failed', { filter: h.filter, err: String((err as Error).stack ?? err) });
      }
    }
  }

  /**
   * Devices already connected when the server (re)starts produce no log line; their retained
   * presence [WIRE-2.6] says whether they are online (the will clears it when they drop).
   */
  private seedPresence(deviceId: string, payload: Buffer): void {
    try {
      const p = JSON.parse(payload.toString('utf8')) as { online?: unknown };
      if (p.online === true) this.live.add(deviceId);
      else if (p.online === false) this.live.delete(deviceId);
    } catch {
      /* invalid presence is the ingest's to count */
    }
  }

  private onLog(line: string): void {
    const e = parseLogLine(line);
    if (!e) return;
    if (e.kind === 'refused') {
      this.s.connectRefused++;
      return;
    }
    // Only device clients (client id = username = device id [WIRE-1.6]) are tracked; the server's own connections are not devices.
    if (e.clientId.startsWith('flotilla-server-')) return;
    if (e.kind === 'connected') {
      if (e.username !== null && e.username !== e.clientId) return;
      this.live.add(e.clientId);
      for (const l of this.listeners) l.connected?.(e.clientId);
    } else if (this.live.delete(e.clientId)) {
      for (const l of this.listeners) l.disconnected?.(e.clientId, false);
    }
  }
}

/** The URL without its user and password, for logs and for devices. */
export function redact(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}
