// Provisioning over the CLI and the API against a real server: one device, a CSV import, listing
// with filters, roles, revocation that disconnects a live device, and bad input that changes nothing.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { deviceClient, provision, until } from './fleet-kit.ts';

let srv: ServerHandle;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'flotilla-prov-'));
const cli = async (...args: string[]) => {
  const r = await runCli(args, env);
  return { ...r, json: r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : null };
};

beforeAll(async () => {
  srv = await startServerProcess();
  env = { FLOTILLA_SERVER: srv.url, FLOTILLA_TOKEN: srv.token };
});
afterAll(async () => srv?.dispose());

describe('flotilla devices (CLI)', () => {
  it('adds a device with tags and prints its id and token once', async () => {
    const r = await cli(
      'devices',
      'add',
      '--id',
      'car-0001',
      '--tag',
      'car',
      '--tag',
      'eu',
      '--group',
      'canary',
      '--attr',
      'vin=WVW123',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ id: 'car-0001', device: { tags: ['car', 'eu'], groups: ['canary'], attributes: { vin: 'WVW123' } } });
    expect(r.json.token).toMatch(/^fdt_[A-Za-z0-9_-]{32}$/);
    // The token is never shown again, and the store has only its hash.
    const shown = await cli('devices', 'show', 'car-0001', '--json');
    expect(JSON.stringify(shown.json)).not.toContain(r.json.token);
    const again = await cli('devices', 'add', '--id', 'car-0001', '--json');
    expect(again.code).toBe(6);
    expect(again.json.error.code).toBe('DEVICE_EXISTS');
  });

  it('imports a CSV all-or-nothing, writes tokens to a private file, and lists by tag', async () => {
    const csv = join(dir, 'fleet.csv');
    writeFileSync(csv, 'id,name,tags,groups,region\nimp-1,Truck 1,truck;eu,,north\nimp-2,,truck,canary,south\n,generated,truck,,\n');
    const out = join(dir, 'tokens.csv');
    const r = await cli('devices', 'import', csv, '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ count: 3, tokensFile: out });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,token');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(expect.arrayContaining(['imp-1', 'imp-2']));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const listed = await cli('devices', 'list', '--tag', 'truck', '--json');
    expect(listed.json.total).toBe(3);
    expect((await srv.api('GET', '/api/v1/devices/imp-1')).body.attributes).toEqual({ region: 'north' });

    // A bad row anywhere refuses the whole file, naming its line.
    writeFileSync(csv, 'id,tags\nok-1,a\nbad/id,b\n');
    const bad = await cli('devices', 'import', csv, '--json');
    expect(bad.code).toBe(6);
    expect(bad.json.error).toMatchObject({ code: 'DEVICE_ID_INVALID' });
    expect(bad.json.error.message).toContain('line 3');
    expect((await srv.api('GET', '/api/v1/devices/ok-1')).status).toBe(404);
  });

  it('pages and filters on the server', async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => provision(srv, { id: `page-${String(i).padStart(2, '0')}`, tags: ['paged'] })),
    );
    const first = await srv.api('GET', '/api/v1/devices?tag=paged&limit=5');
    expect(first.body.devices).toHaveLength(5);
    expect(first.body.total).toBe(12);
    const second = await srv.api('GET', `/api/v1/devices?tag=paged&limit=5&after=${first.body.next}`);
    expect(second.body.devices[0].id).toBe('page-05');
    const all = await cli('devices', 'list', '--tag', 'paged', '--limit', '5', '--all', '--json');
    expect(all.json.devices.map((d: { id: string }) => d.id)).toEqual(ids.map((d) => d.id));
    expect((await srv.api('GET', '/api/v1/devices?online=true&tag=paged')).body.total).toBe(0);
    expect((await srv.api('GET', '/api/v1/devices?limit=0')).body.error.code).toBe('VALIDATION_FAILED');
  });

  it('relabels a device, and viewers may read but not provision', async () => {
    const r = await cli('devices', 'tag', 'car-0001', '--add', 'winter', '--remove', 'eu', '--json');
    expect(r.json.tags).toEqual(['car', 'winter']);
    const viewer = (await srv.api('POST', '/api/v1/tokens', { name: 'dash', role: 'viewer' })).body.token;
    expect((await srv.api('GET', '/api/v1/devices', undefined, viewer)).status).toBe(200);
    const denied = await srv.api('POST', '/api/v1/devices', { id: 'x-1' }, viewer);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('FORBIDDEN');
    expect((await srv.api('POST', '/api/v1/devices', { id: 'bad id!' })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await srv.api('POST', '/api/v1/devices', { id: 'ok-2', tags: ['has space'] })).body.error.code).toBe('DEVICE_LABEL_INVALID');
  });
});

describe('revocation', () => {
  it('disconnects a live device at once; it cannot reconnect; the CLI reports it', async () => {
    const d = await provision(srv);
    const c = await deviceClient(srv.info.mqttUrl, d);
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.connected === true,
    );
    const closed = new Promise<number>((r) => c.once('close', () => r(Date.now())));
    const t0 = Date.now();
    const r = await cli('devices', 'revoke', d.id, '--reason', 'stolen', '--json');
    expect(r.code).toBe(0);
    expect(r.json.revokedAt).not.toBeNull();
    expect((await closed) - t0).toBeLessThan(5000);
    await expect(deviceClient(srv.info.mqttUrl, d)).rejects.toThrow(/Bad username or password|Not authorized|refused/i);
    const shown = (await srv.api('GET', `/api/v1/devices/${d.id}`)).body;
    expect(shown).toMatchObject({ connected: false, online: false });
    expect(shown.events.map((e: { kind: string }) => e.kind)).toContain('revoked');
    expect((await srv.api('GET', '/api/v1/devices?revoked=true')).body.devices.map((x: { id: string }) => x.id)).toContain(d.id);
    // Unknown ids get a clear error and a distinct exit code.
    const missing = await cli('devices', 'show', 'no-such-device', '--json');
    expect(missing.code).toBe(5);
    expect(missing.json.error.code).toBe('DEVICE_NOT_FOUND');
  });
});

describe('API surface', () => {
  it('documents the fleet routes, renders them at /api/docs without any external resource, and exposes /metrics', async () => {
    const doc = await (await fetch(`${srv.url}/api/openapi.json`)).json();
    for (const path of ['/api/v1/devices', '/api/v1/devices/{id}/desired', '/api/v1/bundles', '/api/v1/blobs/{sha256}', '/api/v1/keys'])
      expect(doc.paths).toHaveProperty([path]);
    const page = await fetch(`${srv.url}/api/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('/api/openapi.json');
    expect(html).not.toMatch(/(src|href)=["']https?:/);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    for (const name of [
      'flotilla_mqtt_connected_devices',
      'flotilla_mqtt_messages_in_total',
      'flotilla_mqtt_messages_out_total',
      'flotilla_mqtt_refused_total',
      'flotilla_chunk_bytes_served_total',
      'flotilla_http_request_duration_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(
      /flotilla_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/devices\/:id",status="200"\} \d+/,
    );
  });
});
