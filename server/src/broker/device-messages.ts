// Subscribes the server to one leaf of every device's subtree and hands on only valid messages that a
// device published into its own subtree [WIRE-1.3, WIRE-2.1]; the rest are counted by the caller.
import type { ZodType } from 'zod';
import { parseDeviceTopic, parseMessage } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink } from './broker-link.ts';

/** Resolves to the unsubscribe function. `onInvalid` gets payloads that fail `schema`, with which field broke which bound [WIRE-2.9]. */
export function subscribeDeviceMessages<T>(
  link: Pick<BrokerLink, 'subscribe'>,
  prefix: string,
  leaf: string,
  schema: ZodType<T>,
  onValid: (deviceId: string, message: T) => void,
  onInvalid: (deviceId: string, error: string) => void,
): Promise<() => Promise<void>> {
  return link.subscribe(`${prefix}/devices/+/${leaf}`, (m) => {
    const t = parseDeviceTopic(prefix, m.topic);
    // A device may only publish into its own subtree: the topic must name the publishing client.
    if (!t || m.clientId === null || t.deviceId !== m.clientId) return;
    const r = parseMessage(schema, m.payload);
    if (r.ok) onValid(t.deviceId, r.value);
    else onInvalid(t.deviceId, r.error);
  });
}
