// One MQTT CONNECT with a device's credential, for the identity tests: accepted, or the broker's refusal code.
import mqtt from 'mqtt';

/** 'accepted', or the CONNACK return code (4 bad credentials, 5 not authorised; -1 no code at all). */
export function connectOnce(url: string, id: string, token: string): Promise<'accepted' | number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: token,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
    });
    c.on('connect', () => {
      c.end(true);
      resolve('accepted');
    });
    c.on('error', (err) => {
      c.end(true);
      const code = (err as { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : -1);
    });
  });
}
