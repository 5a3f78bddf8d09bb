// A device message over a bound [WIRE-2.9] through the real embedded broker: dropped, with the field and the bound named.
import { afterAll, beforeAll, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { TelemetryWindow } from '@flotilla/firmware-bundler/wire';
import { createLogger } from '../log/logger.ts';
import type { DeviceAuthority } from './broker-link.ts';
import { subscribeDeviceMessages } from './device-messages.ts';
import { EmbeddedAedesBroker } from './embedded-aedes-broker.ts';

const P = 'flotilla/v1';
const authority: DeviceAuthority = { authenticate: async (id, secret) => (secret === `s-${id}` ? { deviceId: id, groups: [] } : null) };
let broker: EmbeddedAedesBroker;
let url: string;
const valid: string[] = [];
const invalid: { device: string; error: string }[] = [];

beforeAll(async () => {
  broker = new EmbeddedAedesBroker({ authority, log: createLogger('silent'), mqttPort: 0 });
  url = (await broker.start()).mqttUrl;
  await subscribeDeviceMessages(
    broker,
    P,
    'telemetry',
    TelemetryWindow,
    (id, w) => valid.push(`${id}:${w.seq}`),
    (device, error) => invalid.push({ device, error }),
  );
});
afterAll(async () => broker?.close());

const at = new Date().toISOString();
const telemetryWindow = (seq: number, name: string) => ({
  v: 1,
  seq,
  start: at,
  end: at,
  model: { name, version: '1.0.0', sequence: 1 },
  requests: 1,
  errors: 0,
  latencyMs: { p50: 1, p95: 1, p99: 1, hist: { edges: [0, 1], counts: [1] } },
  predictions: [1],
  confidence: { edges: [0, 1], counts: [1] },
  features: {},
  feedback: { labelled: 0, correct: 0 },
  shadow: null,
  dropped: 0,
});

it('hands on valid windows and reports why an oversized one was dropped', async () => {
  const c = await mqtt.connectAsync(url, { clientId: 'dev-a', username: 'dev-a', password: 's-dev-a', reconnectPeriod: 0 });
  try {
    await c.publishAsync(`${P}/devices/dev-a/telemetry`, JSON.stringify(telemetryWindow(1, 'm'.repeat(5000))), { qos: 1 });
    await c.publishAsync(`${P}/devices/dev-a/telemetry`, JSON.stringify(telemetryWindow(2, 'digits')), { qos: 1 });
    for (let i = 0; i < 250 && valid.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await c.endAsync();
  }
  expect(valid).toEqual(['dev-a:2']);
  expect(invalid).toEqual([{ device: 'dev-a', error: 'model.name: at most 128 characters' }]);
});
