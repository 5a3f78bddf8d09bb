// TLS with a certificate made at test time: MQTT over TLS, WSS and HTTPS on one server, verified
// against that certificate as the CA; a client without the CA is refused by its own TLS check.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { mosquittoMissing } from '../support/tools.ts';
import { httpsJson, makeTestCertificate } from '../support/tls-kit.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { reportedState, topic, until } from '../delivery/fleet-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-tls-'));
let srv: ServerHandle;
let ca: Buffer;

const https = <T = any>(method: string, url: string, body?: unknown) => httpsJson<T>(ca, srv.token, method, url, body);

beforeAll(async () => {
  const cert = makeTestCertificate(dir);
  ca = cert.ca;
  srv = await startServerProcess({ args: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--mqtts-port', '0'] });
});
afterAll(async () => {
  await srv?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('serves HTTPS and announces mqtts:// and wss:// endpoints', async () => {
    expect(srv.info.url).toMatch(/^https:\/\//);
    expect(srv.info.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.info.wsUrl).toMatch(/^wss:\/\/.*\/mqtt$/);
    expect((await https('GET', `${srv.url}/healthz`)).status).toBe(200);
  });

  it('accepts a device over MQTT/TLS and WSS when it verifies the server against the CA, and a client without the CA refuses the server', async () => {
    const d = (await https('POST', `${srv.url}/api/v1/devices`, { id: 'tls-dev' })).body as { id: string; token: string };
    const opts = {
      clientId: d.id,
      username: d.id,
      password: d.token,
      protocolVersion: 4 as const,
      reconnectPeriod: 0,
      ca,
      rejectUnauthorized: true,
    };
    const c = await mqtt.connectAsync(srv.info.mqttsUrl!, opts);
    await c.publishAsync(topic(d.id, 'reported'), JSON.stringify(reportedState({ name: 'm', version: '1.0.0', sequence: 1 })), { qos: 1 });
    await until(
      () => https('GET', `${srv.url}/api/v1/devices/${d.id}`),
      (r) => r.body.modelVersion === 'm@1.0.0',
    );
    await c.endAsync();
    const w = await mqtt.connectAsync(srv.info.wsUrl!, { ...opts, wsOptions: { ca } } as mqtt.IClientOptions);
    expect(w.connected).toBe(true);
    await w.endAsync();
    await expect(mqtt.connectAsync(srv.info.mqttsUrl!, { ...opts, ca: undefined })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it.skipIf(mosquittoMissing())('works for mosquitto_sub with --cafile', async () => {
    const d = (await https('POST', `${srv.url}/api/v1/devices`, { id: 'tls-mosq' })).body as { id: string; token: string };
    const port = new URL(srv.info.mqttsUrl!).port;
    const out = await new Promise<string>((resolve) => {
      const p = spawn('/usr/bin/mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        port,
        '--cafile',
        join(dir, 'cert.pem'),
        '-i',
        d.id,
        '-u',
        d.id,
        '-P',
        d.token,
        '-t',
        topic(d.id, 'desired'),
        '-C',
        '1',
        '-W',
        '3',
      ]);
      let text = '';
      p.stdout.on('data', (x) => (text += x));
      p.stderr.on('data', (x) => (text += x));
      setTimeout(() => void https('PUT', `${srv.url}/api/v1/devices/${d.id}/desired`, { bundle: null }), 1000);
      p.on('exit', () => resolve(text));
    });
    expect(JSON.parse(out.trim())).toMatchObject({ v: 1, rev: 1, bundle: null });
  });
});
