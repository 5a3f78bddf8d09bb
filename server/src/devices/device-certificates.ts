// Device certificates from the Flotilla CA (mTLS): a device asks with its current token and sends its public
// key (never a private key); an enrolled device may only certify the key it enrolled with. Certificates are
// short-lived (default 7 days): the agent renews at two thirds of the life and after each credential
// rotation, so an old certificate stops working soon after a rotation without a revocation list, while a
// revoked device is refused by the broker at connect and dropped at once whatever its certificate says.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { DeviceError } from './device-error.ts';
import type { FlotillaCa, IssuedCertificate } from './flotilla-ca.ts';

/** Default life of a device certificate. */
export const DEVICE_CERT_VALIDITY_MS = 7 * 86_400_000;
/** Default life of a broker server certificate. */
export const SERVER_CERT_VALIDITY_MS = 365 * 86_400_000;

export class DeviceCertificates {
  private caPromise: Promise<FlotillaCa> | null = null;

  constructor(private readonly deps: { ca: () => Promise<FlotillaCa>; store: Store; validityMs?: number; now?: () => number }) {}

  /** The CA, made on first use. */
  ca(): Promise<FlotillaCa> {
    this.caPromise ??= this.deps.ca().catch((err: unknown) => {
      this.caPromise = null;
      throw err;
    });
    return this.caPromise;
  }

  /** A client certificate for an authenticated device's public key (base64 DER SubjectPublicKeyInfo). */
  async issue(deviceId: string, publicKeySpki: string): Promise<IssuedCertificate & { ca: string }> {
    const key = parseKey(publicKeySpki);
    const cred = await this.deps.store.devices.credential(deviceId);
    if (!cred || cred.revoked) throw new DeviceError('DEVICE_NOT_FOUND', `device '${deviceId}' was not found or is revoked`);
    if (cred.publicKey) {
      const raw = key.asymmetricKeyType === 'ed25519' ? key.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64') : null;
      if (raw !== cred.publicKey)
        throw new DeviceError(
          'DEVICE_KEY_MISMATCH',
          'this device enrolled with another key: request the certificate for the enrolled device key',
        );
    }
    const ca = await this.ca();
    return {
      ...ca.issueClient(deviceId, key, this.deps.validityMs ?? DEVICE_CERT_VALIDITY_MS, this.deps.now?.() ?? Date.now()),
      ca: ca.certificate,
    };
  }

  /** A broker's server certificate (Mosquitto `certfile`, or the embedded broker's own) for its public key. */
  async issueServer(
    hosts: string[],
    publicKeySpki: string | KeyObject,
    validityMs = SERVER_CERT_VALIDITY_MS,
  ): Promise<IssuedCertificate & { ca: string }> {
    const key = typeof publicKeySpki === 'string' ? parseKey(publicKeySpki) : publicKeySpki;
    const ca = await this.ca();
    try {
      return { ...ca.issueServer(hosts, key, validityMs, this.deps.now?.() ?? Date.now()), ca: ca.certificate };
    } catch (err) {
      throw new DeviceError('DEVICE_HOST_INVALID', (err as Error).message);
    }
  }
}

/** Ed25519 or P-256 keys only (what the CA signs for and TLS 1.3 uses everywhere). */
function parseKey(spkiBase64: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new DeviceError('DEVICE_KEY_INVALID', 'publicKey must be a base64 DER SubjectPublicKeyInfo (an Ed25519 or P-256 public key)');
  }
  if (key.asymmetricKeyType !== 'ed25519' && !(key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')) {
    throw new DeviceError('DEVICE_KEY_INVALID', 'only Ed25519 and P-256 public keys are certified');
  }
  return key;
}
