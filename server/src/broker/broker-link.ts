// The BrokerLink seam: what the server needs from an MQTT broker, embedded (aedes) today, external later.
import type { DeviceCounters } from './device-counters.ts';

/** A message a device published, as the server's own subscriptions see it. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT client id of the publisher (the device id for devices), or null for the server's own messages. */
  clientId: string | null;
}

/** A message the server publishes to devices. */
export interface OutboundMessage {
  topic: string;
  payload: Uint8Array | string;
  /** Default 1 [WIRE: QoS 1 unless stated]. */
  qos?: 0 | 1;
  /** Default false. An empty retained payload clears the retained message. */
  retain?: boolean;
}

/** Where devices connect. */
export interface BrokerEndpoints {
  /** `mqtt://host:port`. */
  mqttUrl: string;
  /** `mqtts://host:port` when TLS is configured, else null. */
  mqttsUrl: string | null;
  /** `ws://host:port/mqtt` (or `wss://`) when attached to the HTTP server, else null. */
  wsUrl: string | null;
}

/** Who is connected to the broker as a device, and what it may subscribe to. */
export interface DeviceIdentity {
  deviceId: string;
  /** Groups whose broadcast topic the device may subscribe to [WIRE-1.4]. */
  groups: readonly string[];
}

/** Checks device credentials on every connect; the broker asks, the device registry answers. */
export interface DeviceAuthority {
  /** The identity for a device id and its secret, or null when unknown, revoked or wrong. */
  authenticate(deviceId: string, secret: string): Promise<DeviceIdentity | null>;
  /**
   * The identity of a device that presented a client certificate the TLS layer already verified against
   * the Flotilla CA (CN = device id): null when unknown or revoked (mTLS, docs/identity.md).
   */
  authenticateCertificate?(deviceId: string): Promise<DeviceIdentity | null>;
}

/** Connection lifecycle as the broker sees it. */
export interface ConnectionListener {
  connected?(deviceId: string): void;
  /** `stillConnected` is true when a newer connection of the same device has already taken over. */
  disconnected?(deviceId: string, stillConnected: boolean): void;
}

/** Counters every BrokerLink reports (monotonic unless noted). */
export interface BrokerStats {
  /** Gauge: devices connected now. */
  connectedDevices: number;
  /** Gauge: connections accepted but not yet authenticated. */
  pendingConnections: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  connectRefused: number;
  /** Connections dropped for an oversized or stalled frame (before or after authentication). */
  framesRefused: number;
  drainTimeouts: number;
  /** Most inbound publishes ever being routed at once, and how many had to wait for a slot (push-back). */
  admissionPeak: number;
  admissionWaits: number;
}

/**
 * Registry changes an external broker must mirror, since it checks device credentials itself (its
 * own salted hashes) instead of asking {@link DeviceAuthority}. The embedded broker has none.
 */
export interface CredentialSync {
  /** New devices with their plaintext tokens: the only moment the server has them. */
  provisioned(devices: readonly { deviceId: string; token: string; groups: readonly string[] }[]): Promise<void>;
  /**
   * The devices' tokens changed [WIRE-2.11]: the broker accepts only the new ones from now on. A token of
   * an older generation than one already given for the device is ignored (writes can overtake each other).
   */
  rotated(devices: readonly { deviceId: string; token: string; generation: number }[]): Promise<void>;
  /** The device may never connect again; it is disconnected. */
  revoked(deviceId: string): Promise<void>;
  /** The device's groups are now `groups` (a device that lost one is reconnected). */
  regrouped(deviceId: string, groups: readonly string[]): Promise<void>;
}

/** The broker as the rest of the server uses it. */
export interface BrokerLink {
  /** Starts listening; resolves to the endpoints devices use. */
  start(): Promise<BrokerEndpoints>;
  /** Publishes on behalf of the server (bypasses device authorization). Resolves once routed. */
  publish(msg: OutboundMessage): Promise<void>;
  /** Subscribes the server itself (MQTT wildcards allowed); resolves to an unsubscribe function. */
  subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<() => Promise<void>>;
  /** Disconnects a device now (revocation); a no-op when it is not connected. */
  disconnect(deviceId: string, reason: string): void;
  isConnected(deviceId: string): boolean;
  onConnection(listener: ConnectionListener): void;
  stats(): BrokerStats;
  /** Stats this back end cannot observe (always 0 in {@link stats}); metrics leave them out. */
  readonly unavailableStats?: readonly (keyof BrokerStats)[];
  /** Present when the broker keeps its own copy of device credentials (external brokers). */
  readonly credentials?: CredentialSync;
  /** Per-device refusals and sheds. */
  readonly counters: DeviceCounters;
  /** Stops accepting, disconnects everyone, releases ports. */
  close(): Promise<void>;
}
