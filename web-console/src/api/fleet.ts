// Devices, bundles and the caller's own identity, with the response types the routes leave loose.
import { core } from './client.ts';
import { unwrap } from './http.ts';
import type { BundleRecord, Device, DeviceView, Role } from './types.ts';

export interface Me {
  id: string;
  name: string;
  role: Role;
}

/** Filters of the device list; every one narrows it, and the server does the work (the fleet can be large). */
export interface DeviceQuery {
  tag?: string;
  group?: string;
  online?: 'true' | 'false';
  /** `name@version` as reported, or `none`. */
  model?: string;
  state?: string;
  after?: string;
  limit?: number;
}

export const whoAmI = () => unwrap<Me>(core.me.$get());

export const listDevices = (q: DeviceQuery) =>
  unwrap<{ devices: Device[]; next: string | null; total: number }>(
    core.devices.$get({ query: { ...q, limit: q.limit === undefined ? undefined : String(q.limit) } as never }),
  );
export const getDevice = (id: string, events = 100) =>
  unwrap<DeviceView>(core.devices[':id'].$get({ param: { id }, query: { events: String(events) } as never }));
/** Devices matching a filter, counted by the server (one row fetched). */
export const countDevices = (q: Omit<DeviceQuery, 'after' | 'limit'>) => listDevices({ ...q, limit: 1 }).then((r) => r.total);

/** Makes a signed, chunked bundle from a version's ONNX artifact (int8 when there is one). */
export const createBundle = (model: string, version?: string) =>
  unwrap<BundleRecord>(core.bundles.$post({ json: { model, ...(version ? { version } : {}) } }));

export const listBundles = (q: { model?: string; limit?: number } = {}) =>
  unwrap<{ bundles: BundleRecord[] }>(
    core.bundles.$get({ query: { model: q.model, limit: q.limit === undefined ? undefined : String(q.limit) } as never }),
  ).then((r) => r.bundles);

/** The bundle signing keys with their fingerprints: what a new agent is told to trust (--trust-fingerprint). */
export const listSigningKeys = () =>
  unwrap<{ keys: { keyId: string; publicKey: string; fingerprint: string }[] }>(core.keys.$get()).then((r) => r.keys);
