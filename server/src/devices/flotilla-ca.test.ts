// The Flotilla CA: its files (key 0600, reused on the next start), the certificates it issues as Node's
// own X.509 parser reads them, and real TLS handshakes on loopback with an Ed25519 device key: a device
// certificate is accepted by a server that requires this CA, and refused when another CA issued it or
// when it has expired.
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateCa, type FlotillaCa } from './flotilla-ca.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-ca-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HOUR = 3600_000;
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** One TLS handshake: the server requires a client certificate from `ca`; answers the client CN it saw, or the error. */
async function handshake(ca: FlotillaCa, client: { key: KeyObject; cert: string }): Promise<string> {
  const serverKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const server = createServer(
    {
      key: pem(serverKey.privateKey),
      cert: ca.issueServer(['127.0.0.1', 'localhost'], serverKey.publicKey, HOUR).certificate,
      ca: ca.certificate,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (s: TLSSocket) => {
      s.end(`CN=${(s.getPeerCertificate() as { subject?: { CN?: string } }).subject?.CN}`);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca: ca.certificate, key: pem(client.key), cert: client.cert, servername: 'localhost' });
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('end', () => resolve(text || 'closed'));
      s.on('error', (err) => resolve(`error: ${err.message}`));
    });
  } finally {
    server.close();
  }
}

describe('Flotilla CA', () => {
  it('is made once with an owner-only key, and reused', async () => {
    const a = await loadOrCreateCa(join(dir, 'keys'));
    expect(statSync(join(dir, 'keys', 'ca.key')).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateCa(join(dir, 'keys'));
    expect(b.fingerprint).toBe(a.fingerprint);
    const x = new X509Certificate(a.certificate);
    expect(x.ca).toBe(true);
    expect(x.subject).toContain('CN=Flotilla CA');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(Date.parse(a.notAfter) - Date.now()).toBeGreaterThan(9 * 365 * 86_400_000);
  });

  it('issues a device certificate for the device key: CN = device id, client auth, random serial, short life', async () => {
    const ca = await loadOrCreateCa(join(dir, 'keys'));
    const device = generateKeyPairSync('ed25519');
    const one = ca.issueClient('CAR-00042', device.publicKey, 7 * 24 * HOUR);
    const two = ca.issueClient('CAR-00042', device.publicKey, 7 * 24 * HOUR);
    const x = new X509Certificate(one.certificate);
    expect(x.subject).toBe('CN=CAR-00042');
    expect(x.checkIssued(new X509Certificate(ca.certificate))).toBe(true);
    expect(x.verify(new X509Certificate(ca.certificate).publicKey)).toBe(true);
    expect(x.publicKey.export({ type: 'spki', format: 'der' })).toEqual(device.publicKey.export({ type: 'spki', format: 'der' }));
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x.ca).toBe(false);
    expect(one.serial).toMatch(/^[0-9A-F]{32}$/);
    expect(two.serial).not.toBe(one.serial);
    expect(Date.parse(one.notAfter) - Date.now()).toBeLessThanOrEqual(7 * 24 * HOUR);
    const server = new X509Certificate(ca.issueServer(['mqtt.example', '10.0.0.7'], device.publicKey, HOUR).certificate);
    expect(server.subjectAltName).toBe('DNS:mqtt.example, IP Address:10.0.0.7');
    expect(server.checkHost('mqtt.example')).toBe('mqtt.example');
    expect(server.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(() => ca.issueServer(['bad host'], device.publicKey, HOUR)).toThrow(/not a host name/);
  });

  it('passes a real TLS handshake with an Ed25519 device key; another CA and an expired certificate are refused', async () => {
    const ca = await loadOrCreateCa(join(dir, 'keys'));
    const device = generateKeyPairSync('ed25519');
    expect(await handshake(ca, { key: device.privateKey, cert: ca.issueClient('CAR-1', device.publicKey, HOUR).certificate })).toBe(
      'CN=CAR-1',
    );
    const stranger = await loadOrCreateCa(join(dir, 'other-keys'));
    expect(
      await handshake(ca, { key: device.privateKey, cert: stranger.issueClient('CAR-1', device.publicKey, HOUR).certificate }),
    ).not.toBe('CN=CAR-1');
    const expired = ca.issueClient('CAR-1', device.publicKey, HOUR, Date.now() - 3 * HOUR).certificate;
    expect(await handshake(ca, { key: device.privateKey, cert: expired })).not.toBe('CN=CAR-1');
  });

  it("takes an operator's CA, and refuses a key that does not match it", async () => {
    const own = await loadOrCreateCa(join(dir, 'op'));
    const ca = await loadOrCreateCa('/nonexistent', { certFile: join(dir, 'op', 'ca.pem'), keyFile: join(dir, 'op', 'ca.key') });
    expect(ca.fingerprint).toBe(own.fingerprint);
    await expect(
      loadOrCreateCa('/nonexistent', { certFile: join(dir, 'op', 'ca.pem'), keyFile: join(dir, 'keys', 'ca.key') }),
    ).rejects.toThrow(/does not belong/);
  });
});
