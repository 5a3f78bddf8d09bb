// Who may publish and subscribe where [WIRE-1.3..1.5]: a device touches only its own subtree and
// the broadcast topics of its groups. Pure functions, so every rule is tested on its own.
import { DEVICE_PUBLISH, DEVICE_SUBSCRIBE, groupTopic, parseDeviceTopic } from '@flotilla/firmware-bundler/wire';
import type { DeviceIdentity } from './broker-link.ts';

const PUBLISH_LEAVES = new Set<string>(DEVICE_PUBLISH);
const SUBSCRIBE_LEAVES = new Set<string>(DEVICE_SUBSCRIBE);
/** [WIRE-1.3] the only leaves a device may retain; anything else is delivered but not kept. */
const RETAINED_LEAVES = new Set(['reported', 'presence']);

/** [WIRE-1.3] a device publishes only the device → server leaves under its own id. */
export function canPublish(prefix: string, deviceId: string, topic: string): boolean {
  const t = parseDeviceTopic(prefix, topic);
  return t !== null && t.deviceId === deviceId && PUBLISH_LEAVES.has(t.leaf);
}

/** Whether a device's publish on `topic` may stay retained (it is already known to be allowed). */
export function mayRetain(prefix: string, topic: string): boolean {
  const t = parseDeviceTopic(prefix, topic);
  return t !== null && RETAINED_LEAVES.has(t.leaf);
}

/**
 * [WIRE-1.4, 1.5] a device subscribes only to its own server → device leaves and its groups'
 * broadcasts, by exact topic: every wildcard filter would expand beyond that, so all are refused.
 */
export function canSubscribe(prefix: string, who: DeviceIdentity, filter: string): boolean {
  if (filter.includes('+') || filter.includes('#')) return false;
  const t = parseDeviceTopic(prefix, filter);
  if (t) return t.deviceId === who.deviceId && SUBSCRIBE_LEAVES.has(t.leaf);
  return who.groups.some((g) => groupTopic(prefix, g) === filter);
}
