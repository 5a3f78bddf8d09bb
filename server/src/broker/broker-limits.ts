// Every bound the embedded broker enforces, with defaults sized for a fleet on one machine.

export interface BrokerLimits {
  /** Largest MQTT packet (fixed header included) after authentication, in bytes. Default 1 MiB. */
  maxPacketBytes: number;
  /** Largest packet before authentication (the CONNECT, will included), in bytes. Default 8 KiB. */
  preAuthMaxPacketBytes: number;
  /** A packet that stays incomplete this long drops the connection (trickled packets), ms. Default 30 s. */
  partialPacketTimeoutMs: number;
  /** CONNECT must arrive within this time of the TCP accept, ms. Default 10 s. */
  connectTimeoutMs: number;
  /** A subscriber whose socket has not drained for this long is disconnected, ms. Default 30 s. */
  drainTimeoutMs: number;
  /** Unacknowledged QoS 1 messages per client; further messages to it are shed. Default 32. */
  maxInflightPerClient: number;
  /** Sustained publishes per device per second (token bucket rate). Default 50. */
  devicePublishRate: number;
  /** Burst allowance per device (bucket size), messages. Default 200. */
  devicePublishBurst: number;
  /**
   * Publishes accepted and still being routed, over all clients. Beyond it, a publish waits before
   * it is acknowledged, so publishers are pushed back instead of the broker queueing. Without this
   * bound aedes 1.2 queues without limit under overload and its router (mqemitter) drains that queue
   * recursively: at 30k msg/s offered it delivered nothing and died of a stack overflow. Default 500.
   */
  maxInflightPublishes: number;
  /**
   * Connections, authenticated or not, at once. Default 50,000, lowered at start to what `ulimit -n` leaves
   * after descriptors reserved for the HTTP side (connection-ceiling.ts).
   */
  maxConnections: number;
  /** Connections from one source address that have not authenticated yet. Default 256: a gateway or a simulator starts many devices from one address. */
  maxPendingPerSource: number;
  /** Bytes buffered toward one client before further messages to it are shed. Default 256 KiB. */
  maxClientBufferBytes: number;
  /** Concurrent chunk transfers the server serves at once [WIRE-2.8]. Default 256. */
  maxConcurrentTransfers: number;
  /** Outstanding chunk requests per device [WIRE-2.8]. Default 8. */
  chunkWindow: number;
  /** Largest chunk response body, bytes. Default 256 KiB. */
  maxChunkResponseBytes: number;
}

export const DEFAULT_BROKER_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxPacketBytes: 1024 * 1024,
  preAuthMaxPacketBytes: 8 * 1024,
  partialPacketTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  maxInflightPerClient: 32,
  devicePublishRate: 50,
  devicePublishBurst: 200,
  maxInflightPublishes: 500,
  maxConnections: 50_000,
  maxPendingPerSource: 256,
  maxClientBufferBytes: 256 * 1024,
  maxConcurrentTransfers: 256,
  chunkWindow: 8,
  maxChunkResponseBytes: 256 * 1024,
});

/** Fills unset fields from the defaults and refuses nonsense (non-positive or non-numeric values). */
export function resolveBrokerLimits(partial: Partial<BrokerLimits> = {}): BrokerLimits {
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_BROKER_LIMITS))
      throw new Error(`unknown broker limit '${key}' (known: ${Object.keys(DEFAULT_BROKER_LIMITS).join(', ')})`);
  }
  const out = { ...DEFAULT_BROKER_LIMITS, ...partial };
  for (const [key, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new Error(`broker limit ${key} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return out;
}
