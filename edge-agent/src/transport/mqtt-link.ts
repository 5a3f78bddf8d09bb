// ServerLink on mqtt.js (TCP in Node, WebSocket in browsers): own reconnect loop with backoff, presence and last will.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic, DEVICE_SUBSCRIBE, parseDeviceTopic, type DevicePublish, type DeviceSubscribe } from '@flotilla/firmware-bundler/wire';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { ServerLink } from './server-link.ts';

/** Options of {@link MqttLink}. */
export interface MqttLinkOptions {
  /**
   * `mqtt://host:port` (Node) or `ws://host:port/mqtt` (browsers), or a function that asks the
   * server [WIRE-3.3] before each attempt (a failure counts as a failed attempt and backs off).
   */
  url: string | (() => Promise<{ url: string; prefix?: string }>);
  deviceId: string;
  token: string;
  /** Topic prefix [WIRE-1.1]. Default `flotilla/v1`. */
  prefix: string;
  /** Returns the next presence session number, persisted so it grows across restarts [WIRE-2.6]. */
  nextSession: () => Promise<number>;
  /** Reconnect delays. Default 1 s growing to 60 s, with jitter. */
  backoff?: BackoffOptions;
  /** PEM certificate(s) the broker's TLS certificate must chain to (mqtts:// and wss://); default: the system's CAs. */
  ca?: string | Uint8Array;
  /** MQTT keepalive in seconds. Default 30. */
  keepaliveSec?: number;
  /** Diagnostics. */
  log?: (message: string) => void;
  /**
   * Called when the broker refuses the credential (CONNACK 4 or 5): the agent may recover a fresh token
   * [WIRE-3.5] and hand it to {@link MqttLink.useToken}. The link backs off as on any failure meanwhile.
   */
  onCredentialRefused?: () => void;
  /**
   * mTLS (Node): the client key and certificate to present on each attempt, read then so a renewed
   * certificate is used from the next connection; `ca` is pinned unless {@link MqttLinkOptions.ca} is set.
   */
  tlsIdentity?: () => { key: string; cert: string; ca: string } | null;
}

/**
 * {@link ServerLink} over MQTT 3.1.1. mqtt.js's own reconnect uses a fixed period, so each attempt
 * here is a fresh client with `reconnectPeriod: 0` and the delay comes from {@link backoffDelay};
 * a fresh client also lets every attempt carry a last will with its own session number.
 */
export class MqttLink implements ServerLink {
  private client: MqttClient | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private started = false;
  private connected = false;
  private session = 0;
  private prefix: string;
  private readonly handlers = new Map<string, Set<(p: Uint8Array) => void>>();
  private readonly connectionHandlers = new Set<(online: boolean) => void>();
  // mqtt.js may never call back a QoS 1 publish whose connection died; these are failed on loss.
  private readonly unacked = new Set<(err: Error) => void>();

  constructor(private readonly o: MqttLinkOptions) {
    this.prefix = o.prefix;
  }

  get online(): boolean {
    return this.connected;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.connectOnce();
  }

  publish(leaf: DevicePublish, payload: Uint8Array | string, options: { retain?: boolean } = {}): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(new Error('offline'));
    return new Promise((resolve, reject) => {
      this.unacked.add(reject);
      client.publish(this.topic(leaf), toBuffer(payload), { qos: 1, retain: options.retain ?? false }, (err) => {
        this.unacked.delete(reject);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  on(leaf: DeviceSubscribe, fn: (payload: Uint8Array) => void): () => void {
    const set = this.handlers.get(leaf) ?? new Set();
    set.add(fn);
    this.handlers.set(leaf, set);
    return () => set.delete(fn);
  }

  /**
   * Connects with `token` from now on [WIRE-2.11] and reconnects at once, so the broker sees the new
   * credential while the old one is still inside its overlap window. Unacknowledged publishes fail as
   * on any loss (telemetry stays queued until acknowledged).
   */
  useToken(token: string): void {
    this.o.token = token;
    if (this.closed) return;
    this.attempt = 0;
    if (this.client) return void this.client.end(true);
    // Waiting out a backoff after a refusal: the new token is worth trying now.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      void this.connectOnce();
    }
  }

  onConnection(fn: (online: boolean) => void): () => void {
    this.connectionHandlers.add(fn);
    return () => this.connectionHandlers.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.connected) {
      // A clean disconnect suppresses the will, so say offline explicitly first [WIRE-2.6].
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 2000);
        client.publish(
          this.topic('presence'),
          JSON.stringify({ v: 1, online: false, session: this.session }),
          { qos: 1, retain: true },
          () => {
            clearTimeout(timer);
            r();
          },
        );
      });
    }
    const wasConnected = this.connected;
    this.setConnected(false);
    client.removeAllListeners('close');
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    if (!wasConnected) return void client.end(true);
    // A graceful DISCONNECT, but never wait more than 2 s for a broker that stopped answering.
    await new Promise<void>((r) => {
      const timer = setTimeout(() => {
        client.end(true);
        r();
      }, 2000);
      client.end(false, {}, () => {
        clearTimeout(timer);
        r();
      });
    });
  }

  private topic(leaf: DevicePublish | DeviceSubscribe): string {
    return deviceTopic(this.prefix, this.o.deviceId, leaf);
  }

  private async connectOnce(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    let session: number;
    try {
      session = await this.o.nextSession();
    } catch {
      session = this.session + 1;
    }
    if (this.closed) return;
    let url: string;
    try {
      if (typeof this.o.url === 'string') url = this.o.url;
      else {
        const info = await this.o.url();
        url = info.url;
        if (info.prefix) this.prefix = info.prefix;
      }
    } catch (err) {
      this.scheduleReconnect(`no broker address: ${(err as Error)?.message ?? err}`);
      return;
    }
    if (this.closed) return;
    this.session = session;
    const opts: IClientOptions = {
      clientId: this.o.deviceId,
      username: this.o.deviceId,
      password: this.o.token,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: this.o.keepaliveSec ?? 30,
      will: { topic: this.topic('presence'), payload: JSON.stringify({ v: 1, online: false, session }), qos: 1, retain: true },
      // TLS: verify the broker against the configured CA (never switched off).
      ...(this.o.ca ? tlsOptions(this.o.ca) : {}),
      ...clientCertificate(this.o.tlsIdentity?.() ?? null, this.o.ca),
    };
    const client = mqtt.connect(url, opts);
    this.client = client;
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('message');
      client.end(true);
      if (this.client === client) this.client = null;
      for (const fail of this.unacked) fail(new Error(`connection lost: ${why}`));
      this.unacked.clear();
      this.setConnected(false);
      this.scheduleReconnect(why);
    };
    client.on('connect', () => {
      const topics = DEVICE_SUBSCRIBE.map((leaf) => this.topic(leaf));
      client.subscribe(topics, { qos: 1 }, (err, _granted, suback) => {
        // mqtt.js reports any refused filter as an error and echoes the requested QoS in `granted`: the SUBACK's
        // own codes say which were refused. `credentials` [WIRE-2.11] is optional: a broker whose rules predate
        // it refuses it, and the device still runs. No SUBACK at all (the connection failed): everything is lost.
        const codes = suback?.granted as number[] | undefined;
        const refused = codes ? topics.filter((_, i) => ((codes[i] ?? 0x80) & 0x80) !== 0) : err ? topics : [];
        if (refused.some((t) => !t.endsWith('/credentials')))
          return onLost(`subscribe refused: ${err?.message ?? 'not authorized'} (${refused.join(', ')})`);
        if (refused.length)
          this.o.log?.('mqtt: the broker refuses the credentials topic; rotations will not arrive until its rules are updated');
        this.attempt = 0;
        client.publish(this.topic('presence'), JSON.stringify({ v: 1, online: true, session }), { qos: 1, retain: true });
        this.setConnected(true);
      });
    });
    client.on('message', (topic, payload) => {
      const parsed = parseDeviceTopic(this.prefix, topic);
      const set = parsed && parsed.deviceId === this.o.deviceId ? this.handlers.get(parsed.leaf) : undefined;
      if (!set) return;
      const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
      for (const fn of set) {
        try {
          fn(bytes);
        } catch (err) {
          this.o.log?.(`handler for ${topic} threw: ${(err as Error)?.message ?? err}`);
        }
      }
    });
    client.on('close', () => onLost('connection closed'));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5) this.o.onCredentialRefused?.();
      onLost(err.message);
    });
    client.on('offline', () => onLost('offline'));
  }

  private scheduleReconnect(why: string): void {
    if (this.closed || this.timer) return;
    const delay = backoffDelay(this.attempt++, this.o.backoff);
    this.o.log?.(`mqtt: ${why}; reconnecting in ${Math.round(delay)} ms`);
    this.timer = setTimeout(() => void this.connectOnce(), delay);
  }

  private setConnected(online: boolean): void {
    if (this.connected === online) return;
    this.connected = online;
    for (const fn of this.connectionHandlers) fn(online);
  }
}

/** Client TLS settings that verify the broker against `ca`, for mqtts:// and wss:// alike. */
function tlsOptions(ca: string | Uint8Array): Pick<IClientOptions, 'ca' | 'rejectUnauthorized' | 'wsOptions'> {
  const pem = typeof ca === 'string' ? ca : Buffer.from(ca);
  return { ca: pem, rejectUnauthorized: true, wsOptions: { ca: pem } };
}

/** A client certificate and key for mTLS, pinning its CA when no other CA was configured. */
function clientCertificate(
  id: { key: string; cert: string; ca: string } | null,
  configuredCa: MqttLinkOptions['ca'],
): Partial<IClientOptions> {
  if (!id) return {};
  return { key: id.key, cert: id.cert, ...(configuredCa ? {} : tlsOptions(id.ca)) };
}

function toBuffer(payload: Uint8Array | string): Buffer | string {
  if (typeof payload === 'string') return payload;
  // Node's mqtt.js wants a Buffer; browsers have no global Buffer, and mqtt.js's bundled polyfill
  // sizes and writes a plain Uint8Array correctly.
  if (typeof Buffer === 'undefined') return payload as Buffer;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
