import { describe, expect, it } from 'vitest';
import { durationMs, resolveConfig } from './config.ts';

describe('external broker settings', () => {
  it('takes the admin credentials from the URL, or from flags and environment, which win', () => {
    expect(resolveConfig({ mqttUrl: 'mqtt://admin:p%40ss@broker:1883' }, {})).toMatchObject({
      mqttUrl: 'mqtt://admin:p%40ss@broker:1883',
      mqttAdminUser: 'admin',
      mqttAdminPassword: 'p@ss',
    });
    const env = {
      FLOTILLA_MQTT_URL: 'mqtts://broker:8883',
      FLOTILLA_MQTT_ADMIN_USER: 'ops',
      FLOTILLA_MQTT_ADMIN_PASSWORD: 'pw',
      FLOTILLA_MQTT_PUBLIC_URL: 'mqtts://mqtt.example.com:8883',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      mqttUrl: 'mqtts://broker:8883',
      mqttAdminUser: 'ops',
      mqttAdminPassword: 'pw',
      mqttPublicUrl: 'mqtts://mqtt.example.com:8883',
    });
    expect(resolveConfig({}, {}).mqttUrl).toBeUndefined();
  });

  it('refuses a URL that is not MQTT, and a broker without admin credentials, with a clear message', () => {
    expect(() => resolveConfig({ mqttUrl: 'http://broker:1883' }, {})).toThrow(/must start with mqtt:\/\/ or mqtts:\/\//);
    expect(() => resolveConfig({ mqttUrl: 'broker:1883x' }, {})).toThrow(/mqtt|not a URL/);
    expect(() => resolveConfig({ mqttUrl: 'mqtt://broker:1883' }, {})).toThrow(/admin credentials/);
  });
});

describe('identity settings', () => {
  it('reads --rotate-every durations and refuses others, saying what to write', () => {
    expect(durationMs('30d')).toBe(30 * 86_400_000);
    expect(durationMs('90m')).toBe(90 * 60_000);
    expect(resolveConfig({}, { FLOTILLA_ROTATE_EVERY: '12h' }).rotateEveryMs).toBe(12 * 3_600_000);
    expect(resolveConfig({}, {}).rotateEveryMs).toBeUndefined();
    for (const bad of ['monthly', '0d', '30', '1.5d', '-1h']) expect(() => durationMs(bad)).toThrow(/write N followed by s, m, h or d/);
  });

  it('takes mTLS and an operator CA from flags or environment; a CA certificate without its key is refused', () => {
    expect(resolveConfig({}, { FLOTILLA_MTLS: '1', FLOTILLA_CA_CERT: 'ca.pem', FLOTILLA_CA_KEY: 'ca.key' })).toMatchObject({
      mtls: true,
      caCert: 'ca.pem',
      caKey: 'ca.key',
    });
    expect(resolveConfig({}, {}).mtls).toBe(false);
    expect(() => resolveConfig({ caCert: 'ca.pem' }, {})).toThrow(/--ca-cert and --ca-key go together/);
  });
});
