// Device roles made before the `credentials` topic joined the wire rules [WIRE-2.11] lack its ACL, so
// those devices never receive a rotation. The start-up reconcile upgrades them on a real Mosquitto 2:
// the missing ACL is added (the device's subscription is then granted), and a second reconcile changes
// nothing. Meanwhile an agent on an old role runs without rotations.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { generateKeyPair, toHex } from '@flotilla/firmware-bundler';
import { createAgent, OnnxNodeRuntime } from '@flotilla/edge-agent';
import { SimStorage } from '../../server/src/simulator/sim-storage.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '@flotilla/firmware-bundler/wire';
import { DynsecClient } from '../../server/src/broker/dynsec-client.ts';
import { DynsecSync } from '../../server/src/broker/dynsec-sync.ts';
import { createLogger } from '../../server/src/log/logger.ts';
import { mosquittoDynsecMissing, startMosquitto, type MosquittoBroker } from '../support/mosquitto.ts';
import { mosquittoMissing } from '../support/tools.ts';

const skip = mosquittoMissing() ?? mosquittoDynsecMissing();
const PREFIX = 'flotilla/v1';
const devices = ['OLD-1', 'OLD-2', 'NEW-1'].map((id) => ({ deviceId: id, token: `tok-${id}-xxxxxxxxxxxxxxxx`, groups: ['g'] }));

/** The QoS the broker grants a device subscribing to its own `credentials` topic (128: refused). */
async function credentialsGrant(url: string, id: string, token: string): Promise<number> {
  const c = await mqtt.connectAsync(url, { clientId: id, username: id, password: token, reconnectPeriod: 0, protocolVersion: 4 });
  try {
    return await grant(c, deviceTopic(PREFIX, id, 'credentials'));
  } finally {
    await c.endAsync(true);
  }
}

/**
 * The granted QoS of one subscription, 128 when refused (mqtt.js reports a SUBACK of 128 as an
 * 'Unspecified error' and echoes the requested QoS in `granted`, so the error is what tells).
 */
function grant(c: mqtt.MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    c.subscribe(topic, { qos: 1 }, (err, granted) => {
      if (err && /Unspecified error/.test(err.message)) resolve(128);
      else if (err) reject(err);
      else resolve(granted![0]!.qos);
    });
  });
}

describe.skipIf(skip)('dynsec device roles are upgraded to the current wire rules', () => {
  let broker: MosquittoBroker;
  let admin: mqtt.MqttClient;
  let sync: DynsecSync;
  beforeAll(async () => {
    // The OLD-* roles as an older server made them: no `credentials` ACL.
    broker = await startMosquitto({
      devices,
      editSeed: (doc) => {
        for (const r of doc.roles as { rolename: string; acls: { topic: string }[] }[]) {
          if (r.rolename.startsWith('flotilla-device:OLD-')) r.acls = r.acls.filter((acl) => !acl.topic.endsWith('/credentials'));
        }
      },
    });
  }, 30_000);
  afterAll(async () => {
    await admin?.endAsync(true);
    await broker?.stop();
  });

  it('adds the missing ACL once, and a second reconcile changes nothing', async () => {
    expect(await credentialsGrant(broker.url, 'OLD-1', devices[0]!.token)).toBe(128);
    expect(await credentialsGrant(broker.url, 'NEW-1', devices[2]!.token)).toBe(1);
    // An agent whose role predates the topic still runs (without rotations) until the upgrade.
    const logs: string[] = [];
    const agent = await createAgent({
      deviceId: 'OLD-2',
      token: devices[1]!.token,
      mqttUrl: broker.url,
      storage: await SimStorage.open(mkdtempSync(join(tmpdir(), 'old-role-'))),
      runtime: new OnnxNodeRuntime(),
      trustedKeys: [toHex(generateKeyPair().publicKey)],
      backoff: { minMs: 100, maxMs: 500 },
      log: (l) => logs.push(l),
    });
    try {
      const t0 = Date.now();
      while (!agent.online && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 25));
      expect(agent.online).toBe(true);
      expect(logs.join('\n')).toContain('the broker refuses the credentials topic');
    } finally {
      await agent.close();
    }

    admin = await mqtt.connectAsync(broker.url, { username: broker.adminUser, password: broker.adminPassword, reconnectPeriod: 0 });
    const dynsec = new DynsecClient(admin);
    await dynsec.start();
    sync = new DynsecSync(dynsec, PREFIX, createLogger('silent'));
    const registry = async () => ({ devices: devices.map((d) => ({ id: d.deviceId, groups: d.groups })), next: null });

    const first = await sync.reconcile(registry);
    expect(first).toMatchObject({ devices: 3, missing: [], removed: 0, regrouped: 0, upgraded: 2 });
    expect(await credentialsGrant(broker.url, 'OLD-1', devices[0]!.token)).toBe(1);
    expect(await credentialsGrant(broker.url, 'OLD-2', devices[1]!.token)).toBe(1);
    // Nothing else was widened: another device's topic stays refused.
    const c = await mqtt.connectAsync(broker.url, {
      clientId: 'OLD-1',
      username: 'OLD-1',
      password: devices[0]!.token,
      reconnectPeriod: 0,
    });
    expect(await grant(c, deviceTopic(PREFIX, 'OLD-2', 'credentials'))).toBe(128);
    await c.endAsync(true);

    const second = await sync.reconcile(registry);
    expect(second.upgraded).toBe(0);
    // The role holds the ACL exactly once (an idempotent upgrade, not a duplicate per start).
    const [role] = await dynsec.must([{ command: 'getRole', rolename: 'flotilla-device:OLD-1' }]);
    const acls = (role!.data?.role as { acls: { topic: string }[] }).acls.filter((a) => a.topic.endsWith('/credentials'));
    expect(acls).toHaveLength(1);
  }, 60_000);
});
