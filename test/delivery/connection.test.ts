// [WIRE-3.3] An agent asks the server where the broker is, with its own device credential.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => srv?.dispose());

it('answers the broker URLs to the device itself and to nobody else', async () => {
  const dev = (await srv.api('POST', '/api/v1/devices', { tags: ['car'] })).body;
  const other = (await srv.api('POST', '/api/v1/devices', { tags: ['car'] })).body;
  const ask = (id: string, auth: string) =>
    fetch(`${srv.url}/api/v1/devices/${id}/connection`, { headers: { authorization: `Bearer ${auth}` } });
  const ok = await ask(dev.id, `${dev.id}:${dev.token}`);
  expect(ok.status).toBe(200);
  const info = await ok.json();
  expect(info).toMatchObject({ v: 1, prefix: 'flotilla/v1' });
  expect(info.mqtt).toBe(srv.info.mqttUrl);
  expect(info.ws).toMatch(/^ws:\/\/.*\/mqtt$/);
  expect((await ask(dev.id, `${dev.id}:wrong`)).status).toBe(401);
  expect((await ask(dev.id, `${other.id}:${other.token}`)).status).toBe(401);
  expect((await ask(dev.id, srv.token)).status).toBe(401);
});
