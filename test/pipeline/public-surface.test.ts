// What a real server process shows to whoever reaches its ports: tokens only in headers (the URL only on
// event streams), malformed paths and times answered 400 rather than 500, /metrics behind a token when so
// configured, a framing-proof API reference, a private data folder, and no token copied into the log.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRefused, RawMqttClient } from '../../server/src/broker/raw-mqtt.ts';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_METRICS_ACCESS: 'token' } });
});
afterAll(async () => srv?.dispose());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}${path}`, { headers });

describe('tokens in URLs', () => {
  it('refuses ?token= on an ordinary route, saying where it belongs', async () => {
    const res = await get(`/api/v1/datasets?token=${srv.token}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('only on the event streams');
  });

  it('still takes ?token= on the monitoring event stream', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${srv.url}/api/v1/monitoring/stream?token=${srv.token}`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    ctl.abort();
  });
});

describe("malformed input is the client's error", () => {
  it('answers /datasets/%25 with 400, not 500', async () => {
    const r = await srv.api('GET', '/api/v1/datasets/%25');
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_PATH']);
  });

  it('answers a time beyond what a date can hold with 400, not 500', async () => {
    const r = await srv.api('GET', '/api/v1/monitoring/series?to=99999999999999999999');
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_QUERY']);
  });
});

describe('public pages', () => {
  it('keeps /metrics behind an operator token when FLOTILLA_METRICS_ACCESS=token', async () => {
    const anonymous = await get('/metrics');
    expect(anonymous.status).toBe(401);
    const withToken = await get('/metrics', { authorization: `Bearer ${srv.token}` });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toContain('flotilla_http_request_duration_seconds');
  });

  it('serves the API reference with headers that forbid framing, sniffing and outside resources', async () => {
    const res = await get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect((await get('/api/openapi.json')).headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('data at rest', () => {
  it('keeps the databases, blobs and keys readable by the owner only', () => {
    const mode = (p: string) => statSync(join(srv.dataDir, p)).mode & 0o777;
    expect(mode('.')).toBe(0o700);
    expect(mode('flotilla.db')).toBe(0o600);
    expect(mode('telemetry.db')).toBe(0o600);
    expect(mode('blobs')).toBe(0o700);
    expect(mode('keys')).toBe(0o700);
  });
});

it('does not log a token sent as the MQTT username', async () => {
  const secret = 'fdt_ThisIsADeviceTokenPutInTheWrongField01';
  const port = Number(new URL(srv.info.mqttUrl).port);
  const err = await RawMqttClient.connect({ port, clientId: 'cam-1', username: secret, password: 'x' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectRefused);
  for (let i = 0; i < 100 && !srv.logs().includes('mqtt connect refused'); i++) await new Promise((r) => setTimeout(r, 20));
  expect(srv.logs()).toContain('mqtt connect refused');
  expect(srv.logs()).not.toContain(secret);
});

it("shows a device's escape sequences as text in `devices show`, not as terminal commands", async () => {
  const name = 'cam\x1b]0;owned\x07\x1b[2J';
  expect((await srv.api('POST', '/api/v1/devices', { id: 'cam-esc', name })).status).toBe(201);
  const r = await runCli(['devices', 'show', 'cam-esc', '--server', srv.url], { FLOTILLA_TOKEN: srv.token });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toMatch(/[\x1b\x07]/);
  expect(r.stdout).toContain('\\x1b]0;owned\\x07');
});
