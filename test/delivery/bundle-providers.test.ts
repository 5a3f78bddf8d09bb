// A bundle allows the execution providers the operator lists (agents offered a GPU probe only those),
// and the server refuses a provider no agent has, before anything is built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePublicKeyFile, openBundle } from '@flotilla/firmware-bundler';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { linearOnnx, provision, registerOnnxModel } from './fleet-kit.ts';

let srv: ServerHandle;
beforeAll(async () => {
  srv = await startServerProcess();
  await registerOnnxModel(srv, 'kws', linearOnnx(16, 3));
});
afterAll(async () => {
  await srv?.dispose();
});

async function manifestOf(id: string) {
  // A device reads only the bundle it is told to install.
  const device = await provision(srv);
  expect((await srv.api('PUT', `/api/v1/devices/${device.id}/desired`, { bundle: id })).status).toBe(200);
  const res = await fetch(`${srv.url}/api/v1/blobs/${id}`, { headers: { authorization: `Bearer ${device.id}:${device.token}` } });
  expect(res.status).toBe(200);
  const keys = (await srv.api('GET', '/api/v1/keys')).body.keys;
  return openBundle(new Uint8Array(await res.arrayBuffer()), [decodePublicKeyFile(keys[0].file)]).manifest;
}

describe('bundle execution providers', () => {
  it('lists cpu alone by default, and what the operator asked for in order when given', async () => {
    const plain = await srv.api('POST', '/api/v1/bundles', { model: 'kws' });
    expect(plain.status).toBe(201);
    expect((await manifestOf(plain.body.id)).runtime?.executionProviders).toEqual(['cpu']);
    const gpu = await srv.api('POST', '/api/v1/bundles', { model: 'kws', executionProviders: ['cpu', 'webgpu'] });
    expect(gpu.status).toBe(201);
    const m = await manifestOf(gpu.body.id);
    expect(m.runtime?.executionProviders).toEqual(['cpu', 'webgpu']);
    // The rest of the computed requirements stay.
    expect(m.runtime?.minAgentVersion).toBeTruthy();
  });

  it('refuses an unknown provider and an empty list with 400, building nothing', async () => {
    const before = (await srv.api('GET', '/api/v1/bundles?model=kws')).body.bundles.length;
    for (const executionProviders of [['cuda'], []]) {
      const r = await srv.api('POST', '/api/v1/bundles', { model: 'kws', executionProviders });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toMatch(/executionProviders/);
    }
    expect((await srv.api('GET', '/api/v1/bundles?model=kws')).body.bundles.length).toBe(before);
  });
});
