// A client certificate from the Flotilla CA for mTLS brokers (Node): the agent sends the public half of its
// device key (identity/device-key.json, the key it enrolled with; made here for a device provisioned with a
// token) with its current token and gets a short-lived certificate (CN = device id) and the CA to pin. The
// private key never leaves the device. Renewed at two thirds of its life and after each credential rotation,
// so the old certificate is still valid while the new one is taken into use (overlap).
import { fromHex, generateKeyPair, keyPairFromSecret, toHex } from '@flotilla/firmware-bundler';
import { toBase64 } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';
import { DEVICE_KEY } from './enroll.ts';

/** Where the certificate and its CA are kept. */
export const CERTIFICATE_KEY = 'identity/certificate.json';

interface StoredCertificate {
  certificate: string;
  ca: string;
  notAfter: string;
  issuedAt: string;
}

/** What a TLS client presents and pins (PEM). */
export interface TlsIdentity {
  key: string;
  cert: string;
  ca: string;
}

/** DER prefixes of an Ed25519 PKCS#8 private key and SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow. */
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
const SPKI_PREFIX = fromHex('302a300506032b6570032100');

export interface CertificateKeeperOptions {
  server: string;
  deviceId: string;
  storage: AgentStorage;
  /** The device token in use now (rotates). */
  token: () => string;
  fetch?: typeof fetch;
  now?: () => number;
  log?: (line: string) => void;
}

export class CertificateKeeper {
  private stored: StoredCertificate | null = null;
  private keyPem = '';
  private timer: ReturnType<typeof setInterval> | null = null;
  private renewing: Promise<boolean> | null = null;

  constructor(private readonly o: CertificateKeeperOptions) {}

  /** A usable identity: the stored certificate unless it is past two thirds of its life, else a new one. */
  async ensure(): Promise<TlsIdentity> {
    const secret = await this.deviceSecret();
    this.keyPem = pem('PRIVATE KEY', concat(PKCS8_PREFIX, secret));
    this.stored ??= await readJson<StoredCertificate>(this.o.storage, CERTIFICATE_KEY);
    if (!this.stored || this.due()) {
      const renewed = await this.renew();
      // A stored certificate still inside its life serves while the server is unreachable.
      if (!renewed && !(this.stored && Date.parse(this.stored.notAfter) > this.now())) {
        throw new AgentError(
          'AGENT_BOOTSTRAP_FAILED',
          'no client certificate: the server did not issue one (see the log) and none is stored',
        );
      }
    }
    // Looked at again now and then; a renewal takes effect on the next connection.
    this.timer ??= setInterval(() => void (this.due() && this.renew()), 60_000);
    (this.timer as { unref?: () => void }).unref?.();
    return this.current()!;
  }

  current(): TlsIdentity | null {
    return this.stored && this.keyPem ? { key: this.keyPem, cert: this.stored.certificate, ca: this.stored.ca } : null;
  }

  /** Asks for a new certificate now (after a credential rotation); true when one was stored. */
  renew(): Promise<boolean> {
    this.renewing ??= this.request().finally(() => (this.renewing = null));
    return this.renewing;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private due(): boolean {
    if (!this.stored) return true;
    const from = Date.parse(this.stored.issuedAt);
    const to = Date.parse(this.stored.notAfter);
    return this.now() >= from + ((to - from) * 2) / 3;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private async request(): Promise<boolean> {
    const pair = keyPairFromSecret(await this.deviceSecret());
    const url = `${this.o.server.replace(/\/+$/, '')}/api/v1/devices/${encodeURIComponent(this.o.deviceId)}/certificate`;
    try {
      const res = await (this.o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.o.deviceId}:${this.o.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ v: 1, publicKey: toBase64(concat(SPKI_PREFIX, pair.publicKey)) }),
      });
      const text = await res.text();
      const body = res.ok ? (JSON.parse(text) as Partial<StoredCertificate>) : null;
      if (!body || typeof body.certificate !== 'string' || typeof body.ca !== 'string' || typeof body.notAfter !== 'string') {
        this.o.log?.(`certificate: refused (HTTP ${res.status}): ${text.slice(0, 300)}`);
        return false;
      }
      const next: StoredCertificate = {
        certificate: body.certificate,
        ca: body.ca,
        notAfter: body.notAfter,
        issuedAt: new Date(this.now()).toISOString(),
      };
      await writeJson(this.o.storage, CERTIFICATE_KEY, next);
      this.stored = next;
      this.o.log?.(`certificate: issued until ${next.notAfter}`);
      return true;
    } catch (err) {
      this.o.log?.(`certificate: cannot get one from ${url}: ${(err as Error)?.message ?? err}`);
      return false;
    }
  }

  /** The device key's secret; a device provisioned with a token makes one (stored before it is used). */
  private async deviceSecret(): Promise<Uint8Array> {
    let keyFile = await readJson<{ secretKey: string }>(this.o.storage, DEVICE_KEY);
    if (!keyFile || !/^[0-9a-f]{64}$/.test(keyFile.secretKey ?? '')) {
      keyFile = { secretKey: toHex(generateKeyPair().secretKey) };
      await writeJson(this.o.storage, DEVICE_KEY, keyFile);
    }
    return fromHex(keyFile.secretKey);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const pem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${toBase64(der)
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;
