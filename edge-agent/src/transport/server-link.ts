// The ServerLink seam: the agent core's one view of its server connection (MQTT over TCP or WebSocket).
import type { DevicePublish, DeviceSubscribe } from '@flotilla/firmware-bundler/wire';

/** The message channel between agent and server [WIRE-1]. Implementation: `MqttLink`. */
export interface ServerLink {
  /** Whether a connection is up and subscribed now. */
  readonly online: boolean;
  /** Starts connecting (and reconnecting, with backoff and jitter, for as long as the link is open). */
  start(): void;
  /** Publishes at QoS 1 under the device's own subtree; resolves on PUBACK, rejects when offline. */
  publish(leaf: DevicePublish, payload: Uint8Array | string, options?: { retain?: boolean }): Promise<void>;
  /** Calls `fn` with each message arriving on `leaf`; returns the unsubscribe function. */
  on(leaf: DeviceSubscribe, fn: (payload: Uint8Array) => void): () => void;
  /** Calls `fn(true)` after each connect (subscriptions in place) and `fn(false)` on each loss. */
  onConnection(fn: (online: boolean) => void): () => void;
  /** Marks the device offline (presence) and disconnects for good. */
  close(): Promise<void>;
}
