// mTLS with the Flotilla CA on the embedded broker (a real server process with --mtls): a device gets a
// client certificate for its own key with its token, connects over mqtts:// with it (no password), is
// refused without one, under another device's name, or once revoked (and its live session is dropped
// within a second); the CA certificate is public and an admin can get a broker server certificate.
import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollProofMessage } from '@flotilla/firmware-bundler/wire';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, generateKeyPair, keyPairFromSecret, toHex } from '@flotilla/firmware-bundler';
import { createAgent, OnnxNodeRuntime } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess({ args: ['--mtls', '--mqtts-port', '0'] });
}, 120_000);
afterAll(async () => srv?.dispose());

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');
const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** Enrolls `serial` with a fresh Ed25519 key; its token and key pair. */
async function enrolled(claim: string, serial: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
  const enrollmentId = /^fec_(enr-[0-9a-f]{8})\./.exec(claim)![1]!;
  const t = Date.now();
  const res = await fetch(`${srv.url}/api/v1/enroll`, {
    method: 'POST',
    headers: { authorization: `Claim ${claim}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      v: 1,
      serial,
      publicKey: raw,
      timestamp: t,
      proof: sign(null, enrollProofMessage(enrollmentId, serial, raw, t), privateKey).toString('base64'),
    }),
  });
  expect(res.status).toBe(201);
  return { token: ((await res.json()) as { token: string }).token, publicKey, privateKey };
}

async function certify(id: string, token: string, publicKey: KeyObject): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v1/devices/${id}/certificate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${id}:${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ v: 1, publicKey: spki(publicKey) }),
  });
  return { status: res.status, body: await res.json() };
}

/** One mqtts CONNECT with a client certificate and no password: the client, or the refusal. */
function connectWithCert(o: {
  id: string;
  key?: KeyObject;
  cert?: string;
  ca: string;
  username?: string;
}): Promise<{ client?: mqtt.MqttClient; error?: string; code?: number }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(srv.info.mqttsUrl!, {
      clientId: o.id,
      username: o.username ?? o.id,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
      ca: o.ca,
      rejectUnauthorized: true,
      servername: 'localhost',
      ...(o.key && o.cert ? { key: pkcs8(o.key), cert: o.cert } : {}),
    });
    c.once('connect', () => resolve({ client: c }));
    c.once('error', (err) => {
      c.end(true);
      resolve({ error: err.message, code: (err as { code?: number }).code });
    });
    c.once('close', () => resolve({ error: 'closed' }));
  });
}

describe('mTLS with the Flotilla CA on the embedded broker', () => {
  it('certifies a device key, connects with it, and refuses what it must', async () => {
    expect(srv.info.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const ca = (await fetch(`${srv.url}/api/v1/ca`).then((r) => r.json())) as { certificate: string; fingerprint: string };
    expect(new X509Certificate(ca.certificate).ca).toBe(true);
    expect(ca.fingerprint).toMatch(/^SHA256:/);
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'mtls', quota: 3, expiresInSec: 600 });
    const a = await enrolled(made.body.claim, 'T-1');
    const b = await enrolled(made.body.claim, 'T-2');

    // The enrolled key only, and only with the device's own token.
    expect((await certify('T-1', a.token, generateKeyPairSync('ed25519').publicKey)).body.error.code).toBe('DEVICE_KEY_MISMATCH');
    expect((await certify('T-1', b.token, a.publicKey)).status).toBe(401);
    expect((await certify('T-1', a.token, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).status).toBe(400);
    const issued = await certify('T-1', a.token, a.publicKey);
    expect(issued.status).toBe(201);
    expect(new X509Certificate(issued.body.certificate).subject).toBe('CN=T-1');
    expect(issued.body.ca).toBe(ca.certificate);

    const ok = await connectWithCert({ id: 'T-1', key: a.privateKey, cert: issued.body.certificate, ca: ca.certificate });
    expect(ok.error).toBeUndefined();
    const granted = await ok.client!.subscribeAsync('flotilla/v1/devices/T-1/desired', { qos: 1 });
    expect(granted[0]!.qos).toBe(1);

    // No certificate: the handshake fails. Another device's name with T-1's certificate: refused.
    expect((await connectWithCert({ id: 'T-1', ca: ca.certificate })).client).toBeUndefined();
    const borrowed = await connectWithCert({
      id: 'T-2',
      username: 'T-2',
      key: a.privateKey,
      cert: issued.body.certificate,
      ca: ca.certificate,
    });
    expect(borrowed.client).toBeUndefined();

    // Revoked: the live session is dropped at once and the certificate no longer gets in.
    const t0 = Date.now();
    const dropped = new Promise<number>((r) => ok.client!.once('close', () => r(Date.now() - t0)));
    expect((await srv.api('POST', '/api/v1/devices/T-1/revoke', { reason: 'stolen' })).status).toBe(200);
    expect(await dropped).toBeLessThan(1000);
    ok.client!.end(true);
    const again = await connectWithCert({ id: 'T-1', key: a.privateKey, cert: issued.body.certificate, ca: ca.certificate });
    expect(again.client).toBeUndefined();
    expect(again.code).toBe(4);
    // A revoked device gets no new certificate either (its token is refused).
    expect((await certify('T-1', a.token, a.publicKey)).status).toBe(401);
  }, 60_000);

  it('issues a broker server certificate to an admin only', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const r = await srv.api('POST', '/api/v1/ca/server-certificates', {
      hosts: ['mqtt.example', '127.0.0.1'],
      publicKey: spki(key.publicKey),
    });
    expect(r.status).toBe(201);
    expect(new X509Certificate(r.body.certificate).subjectAltName).toBe('DNS:mqtt.example, IP Address:127.0.0.1');
    expect((await srv.api('POST', '/api/v1/ca/server-certificates', { hosts: ['bad host'], publicKey: spki(key.publicKey) })).status).toBe(
      400,
    );
    const op = await srv.api('POST', '/api/v1/tokens', { name: 'op', role: 'operator' });
    expect(
      (await srv.api('POST', '/api/v1/ca/server-certificates', { hosts: ['x'], publicKey: spki(key.publicKey) }, op.body.token)).status,
    ).toBe(403);
  }, 30_000);

  it('an agent connects with its own certificate, renews it with a rotation, and is dropped when revoked', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mtls-agent-'));
    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'mtls-agent', quota: 1, expiresInSec: 600 });
    const storage = await SimStorage.open(join(base, 'A-1'));
    const logs: string[] = [];
    const agent = await createAgent({
      deviceId: 'A-1',
      claim: made.body.claim,
      server: srv.url,
      mqttUrl: srv.info.mqttsUrl!,
      clientCertificate: true,
      storage,
      runtime: new OnnxNodeRuntime(),
      trustedKeys: [toHex(generateKeyPair().publicKey)],
      backoff: { minMs: 100, maxMs: 500 },
      log: (l) => logs.push(l),
    });
    try {
      const t0 = Date.now();
      while (!agent.online && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 25));
      expect(agent.online).toBe(true);
      const first = JSON.parse(new TextDecoder().decode((await storage.read('identity/certificate.json'))!)) as { certificate: string };
      expect(new X509Certificate(first.certificate).subject).toBe('CN=A-1');
      // The certificate is for the key the agent enrolled with: no private key left the device.
      const secret = (JSON.parse(new TextDecoder().decode((await storage.read('identity/device-key.json'))!)) as { secretKey: string })
        .secretKey;
      const raw = new X509Certificate(first.certificate).publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
      expect(toHex(raw)).toBe(toHex(keyPairFromSecret(fromHex(secret)).publicKey));

      expect((await srv.api('POST', '/api/v1/devices/rotate', { ids: ['A-1'], overlapSec: 60 })).body.rotated).toBe(1);
      const t1 = Date.now();
      const issued = () => logs.filter((l) => l.startsWith('certificate: issued')).length;
      while (issued() < 2 && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 25));
      expect(logs.filter((l) => l.startsWith('certificate: issued'))).toHaveLength(2);
      const second = JSON.parse(new TextDecoder().decode((await storage.read('identity/certificate.json'))!)) as { certificate: string };
      expect(new X509Certificate(second.certificate).serialNumber).not.toBe(new X509Certificate(first.certificate).serialNumber);
      while (!agent.online && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 25));
      expect(agent.online).toBe(true);

      expect((await srv.api('POST', '/api/v1/devices/A-1/revoke', { reason: 'stolen' })).status).toBe(200);
      const t2 = Date.now();
      while (agent.online && Date.now() - t2 < 5000) await new Promise((r) => setTimeout(r, 10));
      expect(Date.now() - t2).toBeLessThan(1000);
    } finally {
      await agent.close();
      rmSync(base, { recursive: true, force: true });
    }
  }, 60_000);
});
