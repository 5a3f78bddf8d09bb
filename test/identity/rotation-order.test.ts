// The order a rotation talks to an external broker in (DeviceService on a real SQLite store, with a recording
// link; the real flow on Mosquitto is test/identity/mosquitto-rotation.test.ts): each device's message goes out
// before its password is written, and at most one broker batch of devices waits between its message and its write.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrokerLink } from '../../server/src/broker/broker-link.ts';
import { createLogger } from '../../server/src/log/logger.ts';
import { openSqliteStore } from '../../server/src/store/sqlite/sqlite-store.ts';
import { loadOrCreateCredentialKey } from '../../server/src/devices/credential-key.ts';
import { DeviceService } from '../../server/src/devices/device-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'rotation-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rotation on an external broker', () => {
  it('writes each batch of 20 passwords right after those devices were sent their tokens, with the new generation (devices provisioned with a random token are generation 0)', async () => {
    const store = openSqliteStore(join(dir, 'f.db'));
    const svc = new DeviceService({
      store,
      log: createLogger('silent'),
      prefix: 'flotilla/v1',
      credentialKey: await loadOrCreateCredentialKey(join(dir, 'keys')),
    });
    const made = await svc.provision(
      Array.from({ length: 45 }, (_, i) => ({ id: `d-${String(i).padStart(2, '0')}` })),
      'test',
    );
    const events: string[] = [];
    const link = {
      onConnection: () => undefined,
      isConnected: () => true,
      publish: async (m: { topic: string }) => void events.push(`msg ${m.topic.split('/')[3]}`),
      credentials: {
        rotated: async (devices: { deviceId: string; generation: number }[]) =>
          void events.push(`write ${devices.map((d) => `${d.deviceId}@${d.generation}`).join(',')}`),
      },
    } as unknown as BrokerLink;
    svc.attachBroker(link);
    const r = await svc.rotate({ ids: made.map((d) => d.id) }, 'test', 60_000);
    expect(r).toMatchObject({ rotated: 45, notified: 45 });
    const ids = made.map((d) => d.id);
    const expected = [ids.slice(0, 20), ids.slice(20, 40), ids.slice(40)].flatMap((part) => [
      ...part.map((id) => `msg ${id}`),
      `write ${part.map((id) => `${id}@1`).join(',')}`,
    ]);
    expect(events).toEqual(expected);
    await store.close();
  });
});
