// Retained messages by topic: a device subscribing to its exact topics gets its own retained desired state
// among thousands (and nothing once it was cleared), a wildcard filter still gets every match, and an exact
// filter never runs aedes's scan of the whole retained set.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { createLogger } from '../log/logger.ts';
import { EmbeddedAedesBroker } from './embedded-aedes-broker.ts';
import { exactRetained, type RetainedPersistence } from './exact-retained.ts';

const P = 'flotilla/v1';
let broker: EmbeddedAedesBroker;
let url: string;

beforeAll(async () => {
  broker = new EmbeddedAedesBroker({
    authority: { authenticate: async (id, secret) => (secret === `s-${id}` ? { deviceId: id, groups: [] } : null) },
    log: createLogger('silent'),
    mqttPort: 0,
  });
  url = (await broker.start()).mqttUrl;
  // A fleet's worth of retained desired states.
  for (let i = 0; i < 3000; i++)
    await broker.publish({ topic: `${P}/devices/d${i}/desired`, payload: Buffer.from(`{"rev":${i}}`), qos: 1, retain: true });
});
afterAll(async () => broker?.close());

/** Connects as `id`, subscribes to `topic`, and collects what arrives within a short while after the SUBACK. */
async function retainedFor(id: string, topic: string): Promise<string[]> {
  const c = mqtt.connect(url, { clientId: id, username: id, password: `s-${id}`, reconnectPeriod: 0 });
  try {
    await new Promise<void>((res, rej) => (c.once('connect', () => res()), c.once('error', rej)));
    const got: string[] = [];
    c.on('message', (_t, payload) => got.push(payload.toString()));
    await c.subscribeAsync(topic, { qos: 1 });
    // Retained messages follow the SUBACK at once; a round trip after it makes sure they had their turn.
    await c.publishAsync(`${P}/devices/${id}/presence`, Buffer.from('{}'), { qos: 1 });
    return got;
  } finally {
    await c.endAsync(true);
  }
}

describe('exactRetained', () => {
  it('gives a device its own retained state among 3,000, and nothing once it is cleared', async () => {
    expect(await retainedFor('d1234', `${P}/devices/d1234/desired`)).toEqual(['{"rev":1234}']);
    await broker.publish({ topic: `${P}/devices/d1234/desired`, payload: Buffer.from('{"rev":9999}'), qos: 1, retain: true });
    expect(await retainedFor('d1234', `${P}/devices/d1234/desired`)).toEqual(['{"rev":9999}']);
    await broker.publish({ topic: `${P}/devices/d1234/desired`, payload: Buffer.alloc(0), qos: 1, retain: true });
    expect(await retainedFor('d1234', `${P}/devices/d1234/desired`)).toEqual([]);
  });

  it('answers exact filters from the mirror and sends wildcard filters to the scan', async () => {
    const scanned: string[][] = [];
    const stored: string[] = [];
    const p: RetainedPersistence = {
      storeRetained: (packet) => void stored.push(packet.topic),
      createRetainedStreamCombi: (patterns) => (scanned.push(patterns), Readable.from([])),
    };
    const mirror = exactRetained(p);
    p.storeRetained({ topic: 'a/b', payload: Buffer.from('1') });
    p.storeRetained({ topic: 'a/c', payload: Buffer.from('2') });
    p.storeRetained({ topic: 'a/c', payload: Buffer.alloc(0) });
    expect(stored).toEqual(['a/b', 'a/c', 'a/c']);
    expect(mirror.size()).toBe(1);
    const exact = await p.createRetainedStreamCombi(['a/b', 'a/c', 'x']).toArray();
    expect(exact.map((m: { topic: string; payload: Buffer }) => [m.topic, m.payload.toString()])).toEqual([['a/b', '1']]);
    expect(scanned).toEqual([]);
    await p.createRetainedStreamCombi(['a/b', 'a/+']).toArray();
    expect(scanned).toEqual([['a/b', 'a/+']]);
  });
});
