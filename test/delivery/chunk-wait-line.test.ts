// Over the server's transfer cap, chunk requests wait their turn instead of being refused [WIRE-2.8]:
// a cap of one transfer still serves three devices' full windows, with no BUSY answer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { chunkFetcher, deviceClient, linearOnnx, provision, registerOnnxModel, topic } from './fleet-kit.ts';

let srv: ServerHandle;
const clients: MqttClient[] = [];
let chunks: string[];

beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_BROKER_LIMITS: JSON.stringify({ maxConcurrentTransfers: 1 }) } });
  await registerOnnxModel(srv, 'kws', linearOnnx(256, 200));
  const r = await srv.api('POST', '/api/v1/bundles', { model: 'kws', labels: Array.from({ length: 200 }, (_, i) => `w${i}`) });
  expect(r.status).toBe(201);
  chunks = r.body.chunkDigests;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync()));
  await srv?.dispose();
});

it("serves every request of three devices' full windows through one transfer slot, in turn", async () => {
  const devices = await Promise.all(
    [0, 1, 2].map(async () => {
      const d = await provision(srv);
      await srv.api('PUT', `/api/v1/devices/${d.id}/desired`, { bundle: (await srv.api('GET', '/api/v1/bundles')).body.bundles[0].id });
      const c = await deviceClient(srv.info.mqttUrl, d);
      clients.push(c);
      await c.subscribeAsync(topic(d.id, 'chunks/res'), { qos: 1 });
      return { d, get: chunkFetcher(c, d.id) };
    }),
  );
  const answers = await Promise.all(devices.flatMap(({ get }) => Array.from({ length: 8 }, (_, i) => get(chunks[i % chunks.length]!))));
  expect(answers.map((a) => (a.header.ok ? 'ok' : a.header.code))).toEqual(Array(24).fill('ok'));
  // A ninth request beyond a device's window is still refused at once.
  const { get } = devices[0]!;
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => get(chunks[i % chunks.length]!)));
  expect(burst.map((a) => (a.header.ok ? 'ok' : a.header.code))).toContain('BUSY');
});
