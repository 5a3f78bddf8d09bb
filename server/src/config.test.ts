import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';

describe('external broker settings', () => {
  it('takes the admin credentials from the URL, or from flags and environment, which win', () => {
    expect(resolveConfig({ mqttUrl: 'mqtt://admin:p%40ss@broker:1883' }, {})).toMatchObject({ mqttUrl: 'mqtt://admin:p%40ss@broker:1883', mqttAdminUser: 'admin', mqttAdminPassword: 'p@ss' });
    const env = { FLOTILLA_MQTT_URL: 'mqtts://broker:8883', FLOTILLA_MQTT_ADMIN_USER: 'ops', FLOTILLA_MQTT_ADMIN_PASSWORD: 'pw', FLOTILLA_MQTT_PUBLIC_URL: 'mqtts://mqtt.example.com:8883' };
    expect(resolveConfig({}, env)).toMatchObject({ mqttUrl: 'mqtts://broker:8883', mqttAdminUser: 'ops', mqttAdminPassword: 'pw', mqttPublicUrl: 'mqtts://mqtt.example.com:8883' });
    expect(resolveConfig({}, {}).mqttUrl).toBeUndefined();
  });

  it('refuses a URL that is not MQTT, and a broker without admin credentials, with a clear message', () => {
    expect(() => resolveConfig({ mqttUrl: 'http://broker:1883' }, {})).toThrow(/must start with mqtt:\/\/ or mqtts:\/\//);
    expect(() => resolveConfig({ mqttUrl: 'broker:1883x' }, {})).toThrow(/mqtt|not a URL/);
    expect(() => resolveConfig({ mqttUrl: 'mqtt://broker:1883' }, {})).toThrow(/admin credentials/);
  });
});
