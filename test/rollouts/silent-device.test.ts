// A device that takes its desired state and then says nothing (stuck before it could report, or its report
// lost: issue 16, item 9), on a real server process and broker: with FLOTILLA_ROLLOUT_SILENT_SEC the rollout
// marks it `stalled` on its own cadence, counted in its stage, while a device that reported stays as it said;
// the silent device's first status event moves it on.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';
import { serverBundle } from '../agent/server-kit.ts';
import { deviceClient, nextMessage, topic, until } from '../delivery/fleet-kit.ts';

const TAG = `silent-${process.pid}`;
let srv: ServerHandle;
const clients: MqttClient[] = [];

beforeAll(async () => {
  srv = await startServerProcess({ env: { FLOTILLA_ROLLOUT_TICK_MS: '200', FLOTILLA_ROLLOUT_SILENT_SEC: '2' } });
}, 60_000);
afterAll(async () => {
  for (const c of clients) await c.endAsync();
  await srv?.dispose();
});

it('marks a notified device that never reports stalled, keeps the one that reported, and clears the stall on its first report', async () => {
  const v1 = await serverBundle(srv, 'silent-model');
  const devices: { id: string; token: string }[] = [];
  for (const name of ['quiet', 'talker']) {
    const r = await srv.api('POST', '/api/v1/devices', { id: `${name}-${process.pid}`, tags: [TAG] });
    expect(r.status).toBe(201);
    devices.push({ id: r.body.id, token: r.body.token });
  }
  const [quiet, talker] = devices as [{ id: string; token: string }, { id: string; token: string }];
  // Both connect and take their desired state; neither runs an agent, so only what the test publishes is said.
  const connected = await Promise.all(devices.map((d) => deviceClient(srv.info.mqttUrl, d)));
  clients.push(...connected);
  const desired = connected.map((c, i) => {
    const p = nextMessage(c, topic(devices[i]!.id, 'desired'), (b) => String(b).includes(v1.id));
    void c.subscribeAsync(topic(devices[i]!.id, 'desired'), { qos: 1 });
    return p;
  });
  const created = await srv.api('POST', '/api/v1/rollouts', {
    bundle: v1.id,
    target: { tags: [TAG] },
    reason: 'silent device test',
    stages: [{ percent: 100, bakeSec: 600, gates: { minReporting: 0 } }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  await Promise.all(desired);
  const status = (deviceId: string, seq: number, from: string, to: string) =>
    connected[devices.findIndex((d) => d.id === deviceId)]!.publishAsync(
      topic(deviceId, 'status'),
      JSON.stringify({ v: 1, seq, bundleId: v1.id, from, to, event: to, reason: `${to} ${v1.version}`, at: new Date().toISOString() }),
      { qos: 1 },
    );
  await status(talker.id, 1, 'idle', 'downloading');

  // The tick, not a report, moves the quiet one: it is stalled in its stage, and the rollout says why.
  const stalled = await until(
    () => srv.api('GET', `/api/v1/rollouts/${id}`),
    (r) => r.body.counts?.stalled === 1,
    15_000,
    'the silent device stalled',
  );
  expect(stalled.body.counts).toEqual({ stalled: 1, downloading: 1 });
  expect(stalled.body.stages[0].counts).toEqual({ stalled: 1, downloading: 1 });
  const timeline = (await srv.api('GET', `/api/v1/rollouts/${id}/devices/${quiet.id}`)).body.timeline;
  expect(timeline.at(-1)).toMatchObject({ kind: 'silent', state: 'stalled', detail: { source: 'server' } });
  const events = (await srv.api('GET', `/api/v1/rollouts/${id}/events`)).body.events;
  expect(events.find((e: { kind: string }) => e.kind === 'devices_silent')).toMatchObject({ detail: { count: 1, devices: [quiet.id] } });

  // Its first word clears the stall.
  await status(quiet.id, 1, 'idle', 'downloading');
  const after = await until(
    () => srv.api('GET', `/api/v1/rollouts/${id}`),
    (r) => r.body.counts?.downloading === 2,
    15_000,
    'the stall cleared',
  );
  expect(after.body.counts).toEqual({ downloading: 2 });
}, 60_000);
