// What the fleet routes (devices, bundles, blobs, keys, metrics) are given by the composition root.
import type { BrokerLink } from '../../broker/broker-link.ts';
import type { BundleService } from '../../delivery/bundle-service.ts';
import type { DeliveryService } from '../../delivery/delivery-service.ts';
import type { KeyRing } from '../../delivery/key-ring.ts';
import type { DeviceService } from '../../devices/device-service.ts';
import type { EnrollmentService } from '../../devices/enrollment-service.ts';
import type { DeviceCertificates } from '../../devices/device-certificates.ts';
import type { MetricsRegistry } from '../../metrics/registry.ts';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../api-error.ts';

export interface FleetServices {
  devices: DeviceService;
  enrollments: EnrollmentService;
  /** The Flotilla CA's certificates (mTLS); absent on a server without one. */
  certificates?: DeviceCertificates;
  bundles: BundleService;
  delivery: DeliveryService;
  broker: BrokerLink;
  /** Bundle-signing keys: the active signer and the trust update devices get. */
  keys: KeyRing;
  metrics: MetricsRegistry;
  /** Counts blob bytes served over HTTP [WIRE-3.1]. */
  onHttpBlobBytes(n: number): void;
}

/** Refuses request bodies over `max` bytes with 413 before they are read whole. */
export const limitBody = (max: number) =>
  bodyLimit({
    maxSize: max,
    onError: () => {
      throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `request bodies here are limited to ${max} bytes`);
    },
  });

/**
 * A device's own request [WIRE-3.3]: `Authorization: Bearer <deviceId>:<deviceToken>` naming device `id`, with a
 * token the registry accepts; 401 otherwise. Used by routes a device calls before operator authentication.
 */
export async function requireDevice(f: Pick<FleetServices, 'devices'>, header: string | undefined, id: string): Promise<void> {
  const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  const colon = secret.indexOf(':');
  if (colon <= 0 || secret.slice(0, colon) !== id)
    throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer <deviceId>:<deviceToken> for this device');
  if (!(await f.devices.authenticate(id, secret.slice(colon + 1))))
    throw new ApiError(401, 'UNAUTHENTICATED', 'unknown device, wrong token, or revoked');
}
