// mTLS with the Flotilla CA on an external Mosquitto 2 (require_certificate + use_identity_as_username):
// the operator's CA (made here by Flotilla's own CA code, then given to the server with --ca-cert/--ca-key)
// certifies Mosquitto's listener and the devices' own keys; a device connects with its certificate and no
// password, gets exactly its own topics from its dynamic-security role, and loses them at once when revoked.
import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, enrollProofMessage } from '@flotilla/firmware-bundler/wire';
import { loadOrCreateCa, type FlotillaCa } from '../../server/src/devices/flotilla-ca.ts';
import { mosquittoDynsecMissing, startMosquitto, type MosquittoBroker } from '../support/mosquitto.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { mosquittoMissing } from '../support/tools.ts';

const skip = mosquittoMissing() ?? mosquittoDynsecMissing();
const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** The granted QoS of one subscription, 128 when refused (mqtt.js reports 128 as an error). */
function grant(c: mqtt.MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    c.subscribe(topic, { qos: 1 }, (err, granted) => {
      if (err && /Unspecified error/.test(err.message)) resolve(128);
      else if (err) reject(err);
      else resolve(granted![0]!.qos);
    });
  });
}

describe.skipIf(skip)('mTLS with the Flotilla CA on Mosquitto', () => {
  let dir: string;
  let ca: FlotillaCa;
  let broker: MosquittoBroker;
  let srv: ServerHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mosq-mtls-'));
    ca = await loadOrCreateCa(join(dir, 'keys'));
    const brokerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'broker.key'), pkcs8(brokerKey.privateKey), { mode: 0o600 });
    writeFileSync(join(dir, 'broker.crt'), ca.issueServer(['127.0.0.1', 'localhost'], brokerKey.publicKey, 86_400_000).certificate);
    broker = await startMosquitto({
      tls: { cafile: join(dir, 'keys', 'ca.pem'), certfile: join(dir, 'broker.crt'), keyfile: join(dir, 'broker.key') },
    });
    srv = await startServerProcess({
      // The admin password goes in the environment: on the command line `ps` would show it.
      env: { FLOTILLA_MQTT_URL: broker.adminUrl },
      args: ['--ca-cert', join(dir, 'keys', 'ca.pem'), '--ca-key', join(dir, 'keys', 'ca.key')],
    });
  }, 120_000);
  afterAll(async () => {
    await srv?.dispose();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a device connects with its certificate alone, gets only its own topics, and loses them when revoked', async () => {
    // The server uses the operator's CA, and `flotilla ca export` hands it out.
    const exported = await runCli(['ca', 'export', '--json'], { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: srv.token });
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout).fingerprint).toBe(ca.fingerprint);

    const made = await srv.api('POST', '/api/v1/enrollments', { name: 'mosq-mtls', quota: 2, expiresInSec: 600 });
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    const enrollmentId = /^fec_(enr-[0-9a-f]{8})\./.exec(made.body.claim)![1]!;
    const t = Date.now();
    const enrolled = (await fetch(`${srv.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { authorization: `Claim ${made.body.claim}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        v: 1,
        serial: 'MQ-1',
        publicKey: raw,
        timestamp: t,
        proof: sign(null, enrollProofMessage(enrollmentId, 'MQ-1', raw, t), privateKey).toString('base64'),
      }),
    }).then((r) => r.json())) as { token: string };
    const issued = (await fetch(`${srv.url}/api/v1/devices/MQ-1/certificate`, {
      method: 'POST',
      headers: { authorization: `Bearer MQ-1:${enrolled.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ v: 1, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }),
    }).then((r) => r.json())) as { certificate: string };
    expect(new X509Certificate(issued.certificate).subject).toBe('CN=MQ-1');

    const tls = { ca: ca.certificate, key: pkcs8(privateKey), cert: issued.certificate, rejectUnauthorized: true };
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
      clientId: 'MQ-1',
      clean: true,
      reconnectPeriod: 0,
      protocolVersion: 4,
      ...tls,
    });
    expect(await grant(c, deviceTopic('flotilla/v1', 'MQ-1', 'desired'))).toBe(1);
    expect(await grant(c, deviceTopic('flotilla/v1', 'MQ-1', 'credentials'))).toBe(1);
    expect(await grant(c, deviceTopic('flotilla/v1', 'OTHER', 'desired'))).toBe(128);
    // Without a certificate the listener refuses the handshake.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
        clientId: 'MQ-1',
        username: 'MQ-1',
        password: enrolled.token,
        reconnectPeriod: 0,
        ca: ca.certificate,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow();

    // Revoked: the broker forgets the client and drops the connection within a second; a new session gets nothing.
    const t0 = Date.now();
    const dropped = new Promise<number>((r) => c.once('close', () => r(Date.now() - t0)));
    expect((await srv.api('POST', '/api/v1/devices/MQ-1/revoke', { reason: 'stolen' })).status).toBe(200);
    expect(await dropped).toBeLessThan(1000);
    c.end(true);
    const again = await mqtt
      .connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
        clientId: 'MQ-1',
        clean: true,
        reconnectPeriod: 0,
        protocolVersion: 4,
        ...tls,
      })
      .catch(() => null);
    if (again) {
      expect(await grant(again, deviceTopic('flotilla/v1', 'MQ-1', 'desired'))).toBe(128);
      await again.endAsync(true);
    }
  }, 60_000);
});
