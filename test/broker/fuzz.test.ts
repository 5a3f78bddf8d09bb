// Fuzzing a real server: thousands of malformed MQTT payloads are dropped and counted [WIRE-2.1],
// garbage MQTT packets close only their own connection, and malformed API bodies get a clear
// 4xx error. The server never crashes and keeps serving.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { RawMqttClient } from '../../server/src/broker/raw-mqtt.ts';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { mqttPort, provision, reportedState, topic, until } from '../delivery/fleet-kit.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess({
    env: { FLOTILLA_BROKER_LIMITS: JSON.stringify({ devicePublishRate: 10_000, devicePublishBurst: 10_000 }) },
  });
});
afterAll(async () => srv?.dispose());

const LEAVES = ['reported', 'status', 'presence', 'chunks/req', 'telemetry', 'samples'];
const valid = reportedState({ name: 'm', version: '1.0.0', sequence: 1 });
/** Payloads: raw bytes, any JSON, and valid messages with one field swapped for anything. */
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.json().map((j) => Buffer.from(j)),
  fc
    .tuple(fc.constantFrom(...Object.keys(valid)), fc.anything())
    .map(([k, v]) => Buffer.from(JSON.stringify({ ...valid, [k]: v }) ?? 'null')),
  fc
    .record({ v: fc.constant(1), cid: fc.string(), digest: fc.string(), offset: fc.integer(), length: fc.integer() })
    .map((r) => Buffer.from(JSON.stringify(r))),
);

describe('fuzzed MQTT payloads', () => {
  it('drops and counts 3,000 malformed messages without disconnecting the device or losing its state', async () => {
    const d = await provision(srv);
    const c = await RawMqttClient.connect({ port: mqttPort(srv), clientId: d.id, username: d.id, password: d.token });
    await c.publish(topic(d.id, 'reported'), JSON.stringify(valid), 1);
    const samples = fc.sample(fc.tuple(fc.constantFrom(...LEAVES), payload), { numRuns: 3000, seed: 42 });
    for (let i = 0; i < samples.length; i += 100) {
      await Promise.all(samples.slice(i, i + 100).map(([leaf, p]) => c.publish(topic(d.id, leaf), p, 1)));
    }
    expect(c.closed).toBe(false);
    const shown = await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.counters.invalidMessages > 500,
    );
    expect(shown.body.connected).toBe(true);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
    // A valid report after the storm is still taken.
    await c.publish(topic(d.id, 'reported'), JSON.stringify(reportedState({ name: 'after', version: '2.0.0', sequence: 2 })), 1);
    await until(
      () => srv.api('GET', `/api/v1/devices/${d.id}`),
      (r) => r.body.modelVersion === 'after@2.0.0',
    );
    c.end();
  });

  it('closes connections that send garbage or mutated packets, before or after CONNECT, and keeps serving', async () => {
    const d = await provision(srv);
    const connectBytes = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: d.id,
      username: d.id,
      password: Buffer.from(d.token),
      clean: true,
      keepalive: 30,
    } as never);
    const mutate = fc.tuple(fc.nat(connectBytes.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const m = Buffer.from(connectBytes);
      m[i] = b;
      return m;
    });
    const inputs = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
        mutate,
      ),
      { numRuns: 300, seed: 7 },
    );
    for (let i = 0; i < inputs.length; i += 50) {
      await Promise.all(
        inputs.slice(i, i + 50).map(
          (bytes) =>
            new Promise<void>((resolve) => {
              const s = connect({ port: mqttPort(srv), host: '127.0.0.1' }, () => s.end(bytes));
              s.on('error', () => undefined);
              s.on('close', () => resolve());
              s.resume();
              s.setTimeout(15_000, () => s.destroy());
            }),
        ),
      );
    }
    // Authenticated, then garbage.
    for (const junk of fc.sample(fc.uint8Array({ minLength: 2, maxLength: 200 }), { numRuns: 30, seed: 3 })) {
      const c = await RawMqttClient.connect({ port: mqttPort(srv), clientId: d.id, username: d.id, password: d.token });
      c.socket.write(Buffer.from(junk));
      c.socket.end();
      await new Promise<void>((r) => (c.closed ? r() : c.once('close', () => r())));
    }
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
    const ok = await RawMqttClient.connect({ port: mqttPort(srv), clientId: d.id, username: d.id, password: d.token });
    expect(await ok.subscribe([topic(d.id, 'desired')])).toEqual([1]);
    ok.end();
  });
});

describe('fuzzed API bodies', () => {
  it('answers 3,000 malformed requests with a 4xx and a coded error, never a 500', async () => {
    const d = await provision(srv, { id: 'fuzz-target' });
    const routes: [string, string][] = [
      ['POST', '/api/v1/devices'],
      ['PATCH', `/api/v1/devices/${d.id}`],
      ['PUT', `/api/v1/devices/${d.id}/desired`],
      ['POST', '/api/v1/devices/desired'],
      ['POST', '/api/v1/bundles'],
      ['POST', `/api/v1/devices/${d.id}/revoke`],
      ['POST', '/api/v1/devices/import'],
    ];
    const body = fc.oneof(
      fc.json(),
      fc.anything().map((a) => JSON.stringify(a) ?? ''),
      fc.string({ maxLength: 300 }),
      fc
        .record({
          id: fc.string(),
          tags: fc.anything(),
          groups: fc.array(fc.string()),
          bundle: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
          devices: fc.anything(),
          model: fc.string(),
        })
        .map((r) => JSON.stringify(r)),
    );
    const cases = fc.sample(fc.tuple(fc.constantFrom(...routes.filter(([, p]) => !p.endsWith('/revoke'))), body), {
      numRuns: 3000,
      seed: 11,
    });
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    for (let i = 0; i < cases.length; i += 25) {
      await Promise.all(
        cases.slice(i, i + 25).map(async ([[method, path], text]) => {
          const res = await fetch(`${srv.url}${path}`, {
            method,
            body: text,
            headers: { authorization: `Bearer ${srv.token}`, 'content-type': path.endsWith('/import') ? 'text/csv' : 'application/json' },
          });
          const raw = await res.text();
          let parsed: any = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            /* keep text */
          }
          const r = { status: res.status, body: parsed };
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (
            r.status >= 500 ||
            (r.status >= 400 && (typeof r.body?.error?.code !== 'string' || typeof r.body?.error?.message !== 'string'))
          ) {
            bad.push(`${method} ${path} ${JSON.stringify(text).slice(0, 200)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          }
        }),
      );
    }
    expect(bad).toEqual([]);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(2000);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
    expect((await srv.api('GET', `/api/v1/devices/${d.id}`)).status).toBe(200);
  }, 120_000);
});
