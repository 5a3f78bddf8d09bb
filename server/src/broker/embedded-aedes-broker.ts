// EmbeddedAedesBroker: the BrokerLink on aedes 1.x in this process, with the authentication,
// authorization and bounds aedes leaves to its embedder.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { exactRetained, type RetainedPersistence } from './exact-retained.ts';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import { DEFAULT_PREFIX, DEVICE_ID } from '@flotilla/firmware-bundler/wire';
import type { Logger } from '../log/logger.ts';
import { canPublish, canSubscribe, mayRetain } from './acl.ts';
import { AdmissionGate } from './admission-gate.ts';
import type {
  BrokerEndpoints,
  BrokerLink,
  BrokerStats,
  ConnectionListener,
  DeviceAuthority,
  DeviceIdentity,
  InboundMessage,
  OutboundMessage,
} from './broker-link.ts';
import { resolveBrokerLimits, type BrokerLimits } from './broker-limits.ts';
import { connectionCeiling } from './connection-ceiling.ts';
import { DeviceCounters } from './device-counters.ts';
import { GuardedStream } from './guarded-stream.ts';
import { hashMatches } from './secret-hash.ts';
import { SourceLimit } from './source-limit.ts';
import { attachWebSocket, boundPort, closeServer, listenTcp, listenTls, WS_PATH, type Transport } from './listeners.ts';
import { TokenBucket } from './token-bucket.ts';

export interface EmbeddedBrokerOptions {
  authority: DeviceAuthority;
  log: Logger;
  /** Topic prefix [WIRE-1.1]. Default `flotilla/v1`. */
  prefix?: string;
  limits?: Partial<BrokerLimits>;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** MQTT TCP port; 0 picks a free one. Default 1883. */
  mqttPort?: number;
  /**
   * MQTT over TLS, when a certificate and key are given (port default 8883). With `clientCa` (mTLS) that
   * listener takes only clients with a certificate from that CA; its CN is the device id.
   */
  tls?: { cert: string | Buffer; key: string | Buffer; port?: number; clientCa?: string };
  /** Milliseconds for the publish-rate buckets (default `performance.now`): a test holds it still, so its counts do not depend on load. */
  clock?: () => number;
  /** HTTP(S) server whose upgrades at `/mqtt` become MQTT-over-WebSocket connections. */
  httpServer?: HttpServer | HttpsServer;
  /** Public URL base of that HTTP server (`http://host:port`), to report the WebSocket endpoint. */
  httpUrl?: string;
  /**
   * Trusted consumers with full access under the prefix (benchmarks, a bridge): username → sha256
   * hex of the secret. Their client ids must start with the username.
   */
  serviceAccounts?: Record<string, string>;
}

/** What the broker knows about one authenticated connection. */
interface Session {
  id: string;
  identity: DeviceIdentity | null;
  service: boolean;
  bucket: TokenBucket;
  /** Unacknowledged QoS 1 messages sent to this client. */
  inflight: number;
  stream: GuardedStream;
  /** Runs while the client owes us something (acks, or reading its socket); see {@link EmbeddedAedesBroker.owe}. */
  stallTimer: NodeJS.Timeout | null;
  /** This client's publishes admitted and not yet routed (see AdmissionGate). */
  admitted: number;
  readonly closed: boolean;
}

/** Topic shed publishes are rewritten to: acknowledged as MQTT 3.1.1 requires, routed to no one. */
const SHED_TOPIC = '$flotilla/shed';

type AuthError = Error & { returnCode: number };

/**
 * A username as it may be logged: a device or operator token put in the username field by mistake (it has
 * the tokens' prefix) is a secret, and a log is no place for it.
 */
export function loggableUsername(username: string | undefined): string | undefined {
  if (username === undefined) return undefined;
  return /^(fdt|flt)_/.test(username) ? `${username.slice(0, 4)}… (a token, not logged)` : username.slice(0, 64);
}

export class EmbeddedAedesBroker implements BrokerLink {
  readonly counters = new DeviceCounters();
  readonly limits: BrokerLimits;
  private readonly prefix: string;
  private readonly aedes: Aedes;
  private readonly sessions = new WeakMap<Client, Session>();
  private readonly live = new Map<string, Client>();
  private readonly listeners: ConnectionListener[] = [];
  private readonly servers: Server[] = [];
  private detachWs: (() => void) | null = null;
  private connections = 0;
  private readonly gate: AdmissionGate;
  private readonly pendingBySource: SourceLimit;
  /** Streams still holding a pending slot, with their source. */
  private readonly pending = new WeakMap<Duplex, string | undefined>();
  /** Connections whose client certificate the TLS layer verified (mTLS), with its device id. */
  private readonly certified = new WeakMap<Duplex, string>();
  private readonly s = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, connectRefused: 0, framesRefused: 0, drainTimeouts: 0 };
  private endpoints: BrokerEndpoints | null = null;
  private http: { server: HttpServer | HttpsServer; url?: string } | null;

  constructor(private readonly opts: EmbeddedBrokerOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    const limits = resolveBrokerLimits(opts.limits);
    this.limits = { ...limits, maxConnections: connectionCeiling(limits.maxConnections) };
    if (this.limits.maxConnections < limits.maxConnections) {
      opts.log.info('mqtt connections capped by the open-file limit', {
        configured: limits.maxConnections,
        ceiling: this.limits.maxConnections,
      });
    }
    this.pendingBySource = new SourceLimit(this.limits.maxPendingPerSource);
    this.http = opts.httpServer ? { server: opts.httpServer, url: opts.httpUrl } : null;
    this.gate = new AdmissionGate(this.limits.maxInflightPublishes);
    this.aedes = new Aedes({
      connectTimeout: this.limits.connectTimeoutMs,
      drainTimeout: this.limits.drainTimeoutMs,
      // Devices publish QoS 1; QoS 2 is allowed but its receive window stays small.
      maxInflightInbound: 16,
      maxClientsIdLength: 128,
      preConnect: (client, packet, cb) => {
        // A device may leave the client id empty: it is then its device id (never a random one,
        // which would dodge the one-connection-per-device rule).
        if (!packet.clientId && packet.username) packet.clientId = packet.username;
        cb(null, true);
      },
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
      published: (_packet, client, cb) => {
        const session = client && this.sessions.get(client);
        if (session) this.gate.routed(session);
        cb(null);
      },
    });
    this.aedes.on('clientReady', (client) => {
      const session = this.sessions.get(client);
      if (!session || session.service) return;
      this.live.set(session.id, client);
      for (const l of this.listeners) l.connected?.(session.id);
    });
    this.aedes.on('clientDisconnect', (client) => {
      const session = this.sessions.get(client);
      if (!session || session.service) return;
      if (this.live.get(session.id) === client) this.live.delete(session.id);
      for (const l of this.listeners) l.disconnected?.(session.id, this.live.has(session.id));
    });
    this.aedes.on('ack', (_packet, client) => {
      const session = client && this.sessions.get(client);
      if (!session) return;
      if (session.inflight > 0) session.inflight--;
      this.progress(session);
    });
    this.aedes.on('publish', (_packet, client) => {
      if (client) this.s.messagesIn++;
    });
    this.aedes.on('clientError', (client, err) => {
      if (err.message === 'drain timeout') this.s.drainTimeouts++;
      opts.log.debug('mqtt client error', { client: client?.id, err: err.message });
    });
    this.aedes.on('connectionError', (_client, err) => opts.log.debug('mqtt connection error', { err: err.message }));
    (this.aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => opts.log.error('mqtt broker error', { err: String(err) }));
  }

  /** Accepts MQTT over WebSocket at `/mqtt` on this HTTP(S) server too; call before start(). */
  attachHttp(server: HttpServer | HttpsServer, url: string): void {
    this.http = { server, url };
  }

  async start(): Promise<BrokerEndpoints> {
    await this.aedes.listen();
    // aedes creates its persistence in listen(): from here a device's SUBSCRIBE finds its retained states by topic.
    exactRetained((this.aedes as unknown as { persistence: RetainedPersistence }).persistence);
    const host = this.opts.host ?? '127.0.0.1';
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const accept = (stream: Duplex, transport: Transport, source: string | undefined) => this.accept(stream, transport, source);
    const tcp = await listenTcp(host, this.opts.mqttPort ?? 1883, accept);
    this.servers.push(tcp);
    let mqttsUrl: string | null = null;
    if (this.opts.tls) {
      const tls = await listenTls(host, this.opts.tls.port ?? 8883, this.opts.tls, this.limits.connectTimeoutMs, accept);
      this.servers.push(tls);
      mqttsUrl = `mqtts://${urlHost}:${boundPort(tls)}`;
    }
    let wsUrl: string | null = null;
    if (this.http) {
      // A WebSocket message may carry a whole MQTT packet plus framing slack.
      this.detachWs = attachWebSocket(this.http.server, this.limits.maxPacketBytes + 1024, accept);
      wsUrl = this.http.url ? `${this.http.url.replace(/^http/, 'ws')}${WS_PATH}` : null;
    }
    this.endpoints = { mqttUrl: `mqtt://${urlHost}:${boundPort(tcp)}`, mqttsUrl, wsUrl };
    return this.endpoints;
  }

  publish(msg: OutboundMessage): Promise<void> {
    const packet = {
      cmd: 'publish',
      topic: msg.topic,
      payload: Buffer.from(msg.payload as Uint8Array),
      qos: msg.qos ?? 1,
      retain: msg.retain ?? false,
      dup: false,
    } as PublishPacket;
    return new Promise((resolve, reject) => this.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  async subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<() => Promise<void>> {
    const log = this.opts.log;
    const deliver = (packet: AedesPublishPacket, cb: () => void) => {
      try {
        handler({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload as string),
          qos: packet.qos,
          retain: packet.retain,
          clientId: (packet as { clientId?: string }).clientId ?? null,
        });
      } catch (err) {
        log.error('mqtt handler failed', { filter, err: String((err as Error).stack ?? err) });
      }
      // Acknowledge to the router at once: handlers run their own async work, so a slow
      // database write never holds a delivery slot.
      cb();
    };
    await new Promise<void>((r) => this.aedes.subscribe(filter, deliver, () => r()));
    return () => new Promise<void>((r) => this.aedes.unsubscribe(filter, deliver, () => r()));
  }

  disconnect(deviceId: string, reason: string): void {
    const client = this.live.get(deviceId);
    if (!client) return;
    this.opts.log.info('disconnecting device', { device: deviceId, reason });
    client.close();
  }

  isConnected(deviceId: string): boolean {
    return this.live.has(deviceId);
  }

  onConnection(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  stats(): BrokerStats {
    return {
      connectedDevices: this.live.size,
      pendingConnections: Math.max(0, this.connections - this.aedes.connectedClients),
      ...this.s,
      admissionPeak: this.gate.peak,
      admissionWaits: this.gate.waited,
    };
  }

  async close(): Promise<void> {
    this.detachWs?.();
    this.detachWs = null;
    const closing = this.servers.splice(0).map(closeServer);
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await Promise.all(closing);
  }

  private accept(stream: Duplex, transport: Transport, source: string | undefined): void {
    // mTLS: the TLS layer verified the chain; the certificate's CN names the device the session may be.
    const certified = transport === 'mqtts' && this.opts.tls?.clientCa ? certifiedDevice(stream as TLSSocket) : undefined;
    if (this.connections >= this.limits.maxConnections || this.aedes.closed || !this.pendingBySource.take(source)) {
      this.s.connectRefused++;
      stream.destroy();
      return;
    }
    this.connections++;
    const guarded = new GuardedStream(stream, {
      preAuthMaxPacketBytes: this.limits.preAuthMaxPacketBytes,
      maxPacketBytes: this.limits.maxPacketBytes,
      partialPacketTimeoutMs: this.limits.partialPacketTimeoutMs,
      writeHighWaterMark: this.limits.maxClientBufferBytes,
      onViolation: (reason) => {
        this.s.framesRefused++;
        this.opts.log.info('mqtt connection dropped', { reason, transport });
      },
      onBytes: (dir, n) => {
        if (dir === 'in') this.s.bytesIn += n;
        else this.s.bytesOut += n;
      },
    });
    this.pending.set(guarded, source);
    if (certified) this.certified.set(guarded, certified);
    guarded.once('close', () => {
      this.connections--;
      this.authenticatedSource(guarded);
    });
    guarded.on('error', () => undefined);
    this.aedes.handle(guarded);
  }

  /** Gives back the stream's pending slot for its source, once. */
  private authenticatedSource(stream: Duplex): void {
    if (!this.pending.has(stream)) return;
    this.pendingBySource.release(this.pending.get(stream));
    this.pending.delete(stream);
  }

  /**
   * A client certificate stands for the password: the session is the certificate's device, which must be
   * live now (a revoked device is refused whatever its certificate says); a username, if sent, must match.
   */
  private authenticateCertified(
    client: Client,
    deviceId: string,
    username: string | undefined,
    refuse: (code: number, why: string) => void,
    admit: (identity: DeviceIdentity) => void,
  ): void {
    if (username && username !== deviceId) return refuse(4, 'the username must be the device id of the client certificate');
    if (client.id !== deviceId) return refuse(2, 'the client id must equal the device id of the client certificate [WIRE-1.6]');
    if (!client.clean) return refuse(2, 'persistent sessions are not kept: connect with clean session [WIRE-1.6]');
    const check = this.opts.authority.authenticateCertificate;
    if (!check) return refuse(4, 'this server does not take client certificates');
    check.call(this.opts.authority, deviceId).then(
      (identity) => (identity ? admit(identity) : refuse(4, 'unknown or revoked device')),
      (err) => {
        this.opts.log.error('device authentication failed', { err: String(err) });
        refuse(3, 'server unavailable');
      },
    );
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthError | null, ok: boolean | null) => void,
  ): void {
    const refuse = (returnCode: number, message: string) => {
      this.s.connectRefused++;
      this.opts.log.info('mqtt connect refused', { username: loggableUsername(username), reason: message });
      done(Object.assign(new Error(message), { returnCode }), null);
    };
    const stream = client.conn as GuardedStream;
    const certified = this.certified.get(stream);
    const admit = (identity: DeviceIdentity | null, service: boolean) => {
      const session: Session = {
        id: identity?.deviceId ?? username ?? '',
        identity,
        service,
        inflight: 0,
        stream,
        stallTimer: null,
        admitted: 0,
        bucket: new TokenBucket(this.limits.devicePublishRate, this.limits.devicePublishBurst, this.now()),
        get closed() {
          return stream.destroyed;
        },
      };
      this.sessions.set(client, session);
      stream.on('flushed', () => this.progress(session));
      stream.once('close', () => {
        if (session.stallTimer) clearTimeout(session.stallTimer);
        this.gate.forget(session);
      });
      stream.authenticated();
      this.authenticatedSource(stream);
      done(null, true);
    };
    // A verified client certificate stands for the password (mTLS).
    if (certified) return this.authenticateCertified(client, certified, username, refuse, (identity) => admit(identity, false));
    if (!username || !password) return refuse(4, 'username (device id) and password (device token) are required');
    const serviceHash = this.opts.serviceAccounts?.[username];
    if (serviceHash !== undefined) {
      if (!hashMatches(serviceHash, password)) return refuse(4, 'bad service credential');
      if (!client.id.startsWith(username)) return refuse(2, 'a service client id must start with its username');
      return admit(null, true);
    }
    if (!DEVICE_ID.test(username)) return refuse(4, 'username is not a device id [WIRE-1.2]');
    if (client.id !== username) return refuse(2, 'the client id must equal the device id [WIRE-1.6]');
    if (!client.clean) return refuse(2, 'persistent sessions are not kept: connect with clean session [WIRE-1.6]');
    this.opts.authority.authenticate(username, password.toString('utf8')).then(
      (identity) => (identity ? admit(identity, false) : refuse(4, 'unknown device, wrong token, or revoked')),
      (err) => {
        this.opts.log.error('device authentication failed', { err: String(err) });
        refuse(3, 'server unavailable');
      },
    );
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    const session = client && this.sessions.get(client);
    if (!session) return cb(new Error('publish without an authenticated session'));
    if (session.service) return packet.topic.startsWith('$') ? cb(new Error('reserved topic')) : this.admit(session, cb);
    if (!canPublish(this.prefix, session.id, packet.topic)) {
      this.counters.add(session.id, 'publishRefused');
      this.opts.log.info('mqtt publish refused', { device: session.id, topic: packet.topic.slice(0, 200) });
      // [MQTT-3.3.5-2] 3.1.1 cannot say no to a PUBLISH: the connection is closed instead.
      return cb(new Error(`not authorized to publish to ${packet.topic}`));
    }
    if (packet.retain && !mayRetain(this.prefix, packet.topic)) packet.retain = false;
    const verdict = session.bucket.take(this.now());
    if (verdict.kind === 'ok') return this.admit(session, cb);
    if (verdict.kind === 'delay') {
      // Push back: this client's next packets are read only after this one is let through.
      this.counters.add(session.id, 'rateDelayed');
      setTimeout(() => this.admit(session, cb), verdict.ms);
      return;
    }
    this.counters.add(session.id, 'rateShed');
    packet.topic = SHED_TOPIC;
    packet.retain = false;
    this.admit(session, cb);
  }

  private now(): number {
    return this.opts.clock?.() ?? performance.now();
  }

  /**
   * aedes acknowledges a QoS 1 PUBLISH before routing it, and reads a client's next packets only
   * after routing. Holding the acknowledgement at the gate is what turns overload into TCP
   * push-back on publishers instead of an ever longer routing queue.
   */
  private admit(session: Session, cb: (err?: Error | null) => void): void {
    this.gate.admit(session, cb);
  }

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const session = this.sessions.get(client);
    if (!session) return cb(new Error('subscribe without an authenticated session'));
    if (session.service) return cb(null, sub);
    if (!session.identity || !canSubscribe(this.prefix, session.identity, sub.topic)) {
      this.counters.add(session.id, 'subscribeRefused');
      this.opts.log.info('mqtt subscribe refused', { device: session.id, filter: sub.topic.slice(0, 200) });
      return cb(null, null);
    }
    sub.qos = Math.min(sub.qos, 1) as 0 | 1;
    cb(null, sub);
  }

  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const session = this.sessions.get(client);
    if (!session) return null;
    if (!session.service) {
      // A device that does not read, or does not acknowledge, gets nothing more until it does:
      // what it misses is retained (desired) or asked for again (chunks), per [WIRE-1.6].
      const subQos = (client as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions[packet.topic]?.qos ?? 0;
      const qos = Math.min(packet.qos, subQos);
      if (session.stream.backedUp || (qos > 0 && session.inflight >= this.limits.maxInflightPerClient)) {
        this.counters.add(session.id, 'outboundShed');
        this.owe(session);
        return null;
      }
      if (qos > 0) {
        session.inflight++;
        this.owe(session);
      }
    }
    this.s.messagesOut++;
    return packet;
  }

  /**
   * Starts the stall timer when a device starts owing us acks or socket reads. Shedding keeps
   * aedes from ever waiting on such a device, so its own drain timeout would never fire: this
   * one does, after drainTimeoutMs without progress.
   */
  private owe(session: Session): void {
    session.stallTimer ??= setTimeout(() => {
      session.stallTimer = null;
      if (session.inflight === 0 && !session.stream.backedUp) return;
      this.s.drainTimeouts++;
      this.opts.log.info('disconnecting a device that stopped reading', { device: session.id, unacknowledged: session.inflight });
      session.stream.destroy(new Error('drain timeout'));
    }, this.limits.drainTimeoutMs).unref();
  }

  /** An ack or a drained socket: the device is alive; stop or restart its stall timer. */
  private progress(session: Session): void {
    if (!session.stallTimer) return;
    if (session.inflight === 0 && !session.stream.backedUp) {
      clearTimeout(session.stallTimer);
      session.stallTimer = null;
    } else session.stallTimer.refresh();
  }
}

/** The device id (CN) of a TLS client whose certificate the handshake verified, or undefined. */
function certifiedDevice(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = (socket.getPeerCertificate() as { subject?: { CN?: string | string[] } } | null)?.subject?.CN;
  return typeof cn === 'string' && DEVICE_ID.test(cn) ? cn : undefined;
}
