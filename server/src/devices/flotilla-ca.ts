// The Flotilla CA, for brokers that prefer certificates to tokens (mTLS): made on first use under
// <keys>/ca.key (P-256, PKCS#8 PEM, mode 0600) and <keys>/ca.pem (self-signed, 10 years), or the operator's
// own CA certificate and key (`flotilla server --ca-cert/--ca-key`). It issues device client certificates
// (CN = device id, for the device's own public key: no private key ever leaves a device) and server
// certificates for brokers (the embedded one, or Mosquitto's `certfile`).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate } from './x509.ts';

const CA_YEARS = 10;
/** Certificates are dated this much before issue, so a device whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

export interface IssuedCertificate {
  /** PEM. */
  certificate: string;
  /** Hex, as X509Certificate reports it. */
  serial: string;
  notAfter: string;
}

export class FlotillaCa {
  readonly certificate: string;
  private readonly x509: X509Certificate;
  private readonly publicKey: KeyObject;

  constructor(
    certPem: string,
    private readonly key: KeyObject,
  ) {
    this.x509 = new X509Certificate(certPem);
    this.certificate = this.x509.toString();
    this.publicKey = createPublicKey(key);
    if (!this.x509.checkPrivateKey(key)) throw new Error('the CA key does not belong to the CA certificate');
    if (!this.x509.ca) throw new Error('the CA certificate is not a CA (basicConstraints cA is not set)');
  }

  /** The CA's subject common name, which names it as the issuer. */
  get commonName(): string {
    return /CN=([^\n]+)/.exec(this.x509.subject)?.[1] ?? 'Flotilla CA';
  }

  /** `SHA256:` and the base64 of the DER's sha256, for pinning out of band. */
  get fingerprint(): string {
    return `SHA256:${createHash('sha256').update(this.x509.raw).digest('base64')}`;
  }

  get notAfter(): string {
    return new Date(this.x509.validTo).toISOString();
  }

  /** A client certificate for `deviceId` on the device's own key, valid `validityMs` from `now`. */
  issueClient(deviceId: string, publicKey: KeyObject, validityMs: number, now = Date.now()): IssuedCertificate {
    return this.issue({ commonName: deviceId, publicKey, kind: 'client' }, validityMs, now);
  }

  /** A server certificate for a broker answering on `hosts` (DNS names or IPv4 addresses). */
  issueServer(hosts: string[], publicKey: KeyObject, validityMs: number, now = Date.now()): IssuedCertificate {
    if (!hosts.length) throw new Error('a server certificate names at least one host');
    return this.issue({ commonName: hosts[0]!, publicKey, kind: 'server', altNames: hosts }, validityMs, now);
  }

  private issue(
    s: { commonName: string; publicKey: KeyObject; kind: 'client' | 'server'; altNames?: string[] },
    validityMs: number,
    now: number,
  ): IssuedCertificate {
    // Never beyond the CA itself: a chain is only as valid as its shortest link.
    const notAfter = new Date(Math.min(now + validityMs, Date.parse(this.notAfter)));
    const certificate = issueCertificate({
      ...s,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      issuer: { commonName: this.commonName, key: this.key, publicKey: this.publicKey },
    });
    const x = new X509Certificate(certificate);
    return { certificate, serial: x.serialNumber, notAfter: new Date(x.validTo).toISOString() };
  }
}

/**
 * The operator's CA (both files given), else `<keysDir>/ca.key` + `ca.pem`, made when absent. Two processes
 * starting at once never overwrite each other's key ('wx'); the loser reads the winner's.
 */
export async function loadOrCreateCa(keysDir: string, supplied?: { certFile: string; keyFile: string }): Promise<FlotillaCa> {
  if (supplied)
    return new FlotillaCa(await readFile(supplied.certFile, 'utf8'), createPrivateKey(await readFile(supplied.keyFile, 'utf8')));
  const keyFile = join(keysDir, 'ca.key');
  const certFile = join(keysDir, 'ca.pem');
  if (!existsSync(keyFile)) {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Date.now();
    const cert = issueCertificate({
      commonName: 'Flotilla CA',
      publicKey,
      kind: 'ca',
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + CA_YEARS * 365 * 86_400_000),
      issuer: { commonName: 'Flotilla CA', key: privateKey, publicKey },
    });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const won = await writeFile(keyFile, pem, { mode: 0o600, flag: 'wx' }).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        return false;
      },
    );
    if (won) await writeFile(certFile, cert, { mode: 0o644 });
  }
  // The loser of a race may look before the winner wrote the certificate.
  for (let i = 0; !existsSync(certFile) && i < 50; i++) await new Promise((r) => setTimeout(r, 20));
  try {
    return new FlotillaCa(await readFile(certFile, 'utf8'), createPrivateKey(await readFile(keyFile, 'utf8')));
  } catch (err) {
    throw new Error(
      `${keysDir}/ca.key and ca.pem do not make a CA (${(err as Error).message}): restore them from a backup, or remove both to make a new CA (every device then needs a new certificate)`,
    );
  }
}
