// The few X.509 certificates a Flotilla CA issues (RFC 5280), DER-encoded by hand: Node can parse and
// verify certificates (crypto.X509Certificate) and sign, but has no issuing API, and these are small and
// fixed: a self-signed CA, device client certificates (CN = device id) and broker server certificates.
// Keys are P-256 (ECDSA with SHA-256) or Ed25519; serial numbers are 128 random bits.
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** What a certificate says, and who signs it. */
export interface CertificateSpec {
  /** Subject common name: the device id, the broker host, or the CA's name. */
  commonName: string;
  /** The subject's public key (only its public half is read). */
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  kind: 'ca' | 'client' | 'server';
  /** Server certificates: DNS names and IP addresses the broker answers on. */
  altNames?: string[];
  /** The signer: its name, private key and public key (the subject's own for a self-signed CA). */
  issuer: { commonName: string; key: KeyObject; publicKey: KeyObject };
}

/** A PEM certificate for `spec`, signed by its issuer. */
export function issueCertificate(spec: CertificateSpec): string {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = spec.issuer.publicKey.export({ type: 'spki', format: 'der' });
  const sigAlg = algorithm(spec.issuer.key);
  const serial = randomBytes(16);
  // Positive and without a leading zero byte, so the INTEGER is exactly 16 bytes.
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const extensions = [
    extension('2.5.29.19', true, seq(spec.kind === 'ca' ? [tlv(0x01, Buffer.from([0xff]))] : [])),
    // keyCertSign + cRLSign for the CA; digitalSignature for leaves (TLS 1.3 signs with the key).
    extension('2.5.29.15', true, spec.kind === 'ca' ? Buffer.from([0x03, 0x02, 0x01, 0x06]) : Buffer.from([0x03, 0x02, 0x07, 0x80])),
    ...(spec.kind === 'ca'
      ? []
      : [extension('2.5.29.37', false, seq([oid(spec.kind === 'client' ? '1.3.6.1.5.5.7.3.2' : '1.3.6.1.5.5.7.3.1')]))]),
    ...(spec.altNames?.length ? [extension('2.5.29.17', false, seq(spec.altNames.map(altName)))] : []),
    extension('2.5.29.14', false, tlv(0x04, keyId(spki))),
    extension('2.5.29.35', false, seq([tlv(0x80, keyId(issuerSpki))])),
  ];
  const tbs = seq([
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    sigAlg.id,
    name(spec.issuer.commonName),
    seq([time(spec.notBefore), time(spec.notAfter)]),
    name(spec.commonName),
    spki,
    tlv(0xa3, seq(extensions)),
  ]);
  const signature = sign(sigAlg.hash, tbs, spec.issuer.key);
  const der = seq([tbs, sigAlg.id, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]);
  return toPem(der);
}

export const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

function algorithm(key: KeyObject): { id: Buffer; hash: string | null } {
  if (key.asymmetricKeyType === 'ed25519') return { id: seq([oid('1.3.101.112')]), hash: null };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return { id: seq([oid('1.2.840.10045.4.3.2')]), hash: 'sha256' };
  throw new Error('a Flotilla CA key is P-256 (EC prime256v1) or Ed25519');
}

/** RFC 5280 §4.2.1.2 method 1 in spirit: a hash of the subject's public key (of its SPKI here), 20 bytes. */
const keyId = (spki: Buffer): Buffer => createHash('sha1').update(spki).digest();

function altName(n: string): Buffer {
  const ip = isIP(n);
  if (ip === 4) return tlv(0x87, Buffer.from(n.split('.').map(Number)));
  if (ip === 6) throw new Error(`IPv6 subject names are not supported: ${n}`);
  if (!/^[A-Za-z0-9*]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(n)) throw new Error(`'${n}' is not a host name`);
  return tlv(0x82, Buffer.from(n, 'ascii'));
}

const name = (cn: string): Buffer => seq([tlv(0x31, seq([oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8'))]))]);

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq([oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value)]);
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 §4.1.2.5), to the second, in UTC. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const bytes = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

const integer = (bytes: Buffer): Buffer => tlv(0x02, bytes);
const seq = (items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
