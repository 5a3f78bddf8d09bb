// Topic names of the wire protocol [WIRE-1]: one place that builds and parses them.

export const DEFAULT_PREFIX = 'flotilla/v1';
/** [WIRE-1.2] */
export const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** [WIRE-1.3] what a device publishes. */
export const DEVICE_PUBLISH = ['reported', 'status', 'telemetry', 'samples', 'chunks/req', 'presence'] as const;
/** [WIRE-1.4] what a device subscribes to. */
export const DEVICE_SUBSCRIBE = ['desired', 'chunks/res', 'ack', 'credentials'] as const;

export type DevicePublish = (typeof DEVICE_PUBLISH)[number];
export type DeviceSubscribe = (typeof DEVICE_SUBSCRIBE)[number];

export const deviceTopic = (prefix: string, deviceId: string, leaf: DevicePublish | DeviceSubscribe): string =>
  `${prefix}/devices/${deviceId}/${leaf}`;

export const groupTopic = (prefix: string, group: string): string => `${prefix}/groups/${group}/broadcast`;

/** Splits `{prefix}/devices/{id}/{leaf}`; null when the topic is not a device topic under `prefix`. */
export function parseDeviceTopic(prefix: string, topic: string): { deviceId: string; leaf: string } | null {
  const head = `${prefix}/devices/`;
  if (!topic.startsWith(head)) return null;
  const rest = topic.slice(head.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const deviceId = rest.slice(0, slash);
  if (!DEVICE_ID.test(deviceId)) return null;
  return { deviceId, leaf: rest.slice(slash + 1) };
}
