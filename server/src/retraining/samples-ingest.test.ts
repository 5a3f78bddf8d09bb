// Samples ingest: valid batches are stored once (resends deduplicated by device and prediction id) and
// acknowledged by seq; invalid payloads, spoofed topics and shape mismatches are dropped and counted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMessage, Ack, toBase64 } from '@flotilla/firmware-bundler/wire';
import type { InboundMessage, OutboundMessage } from '../broker/broker-link.ts';
import { createLogger } from '../log/logger.ts';
import { SamplesIngest } from './samples-ingest.ts';
import { openWorld } from '@flotilla/test/support/retraining-test-kit';

/** The two BrokerLink calls the ingest uses, in memory. */
class FakeLink {
  handler: ((m: InboundMessage) => void) | null = null;
  filter = '';
  readonly published: OutboundMessage[] = [];
  async subscribe(filter: string, handler: (m: InboundMessage) => void) {
    this.filter = filter;
    this.handler = handler;
    return async () => {
      this.handler = null;
    };
  }
  async publish(m: OutboundMessage) {
    this.published.push(m);
  }
  send(deviceId: string, body: unknown, clientId: string | null = deviceId) {
    const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    this.handler!({ topic: `flotilla/devices/${deviceId}/samples`, payload, qos: 1, retain: false, clientId });
  }
}

const item = (i: number, label: number | null = i % 10) => ({
  predictionId: `p${i}`,
  input: toBase64(new Uint8Array(Float32Array.from([i, 0, 1]).buffer)),
  shape: [3],
  prediction: 0,
  confidence: 0.5,
  label,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
});

let world: Awaited<ReturnType<typeof openWorld>>;
let link: FakeLink;
let ingest: SamplesIngest;
let clock = Date.UTC(2026, 0, 1);

/** Gives devices a desired state whose telemetry policy asks for samples (or, with rate 0, for none). */
const askForSamples = (ids: string[], sampleBudgetBytes = 1 << 20, sampleRate = 1) =>
  world.store.devices.setDesired(
    ids,
    (rev) => ({
      v: 1,
      rev,
      bundle: null,
      shadow: null,
      issuedAt: new Date(clock).toISOString(),
      telemetry: { windowSec: 60, sampleRate, sampleBudgetBytes },
    }),
    null,
  );

beforeEach(async () => {
  world = await openWorld();
  await world.store.devices.createMany([
    { id: 'cam-1', tokenHash: 'x', tags: ['snowy'] },
    { id: 'cam-2', tokenHash: 'y', tags: [] },
  ]);
  await askForSamples(['cam-1']);
  link = new FakeLink();
  ingest = new SamplesIngest({
    link,
    store: world.store,
    samples: world.samples,
    log: createLogger('silent'),
    prefix: 'flotilla',
    maxDelayMs: 5,
    now: () => clock,
  });
  await ingest.start();
});
afterEach(async () => {
  await ingest.close();
  await world.close();
});

const settle = async () => {
  await new Promise((r) => setTimeout(r, 30));
  await ingest.flush();
};

describe('SamplesIngest', () => {
  it('stores items with the device cohorts, dedups resends, and acks every stored seq', async () => {
    expect(link.filter).toBe('flotilla/devices/+/samples');
    link.send('cam-1', { v: 1, seq: 1, items: [item(1), item(2), item(3, null)] });
    await settle();
    link.send('cam-1', { v: 1, seq: 1, items: [item(1), item(2), item(3, 7)] }); // a resend; the label arrived since
    link.send('cam-1', { v: 1, seq: 2, items: [item(4)] });
    await settle();
    expect(ingest.stored).toBe(4);
    const rows = await world.samples.labelled({ limit: 100 });
    expect(rows.map((r) => r.predictionId)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(rows[2]!.label).toBe(7);
    expect(rows[0]!.cohorts).toEqual(['snowy']);
    expect(Array.from(new Float32Array(rows[1]!.input.slice().buffer))).toEqual([2, 0, 1]);
    expect(await world.samples.countLabelled({ cohort: 'snowy' })).toBe(4);
    expect(await world.samples.countLabelled({ cohort: 'sunny' })).toBe(0);
    const acks = link.published.map((m) => ({ topic: m.topic, ack: decodeMessage(Ack, m.payload as Uint8Array) }));
    expect(acks).toEqual([
      { topic: 'flotilla/devices/cam-1/ack', ack: { v: 1, kind: 'samples', seqs: [1] } },
      { topic: 'flotilla/devices/cam-1/ack', ack: { v: 1, kind: 'samples', seqs: [1, 2] } },
    ]);
  });

  it('drops and counts invalid payloads, ignores spoofed topics, skips items whose input does not fit the shape', async () => {
    link.send('cam-1', 'not json');
    link.send('cam-1', { v: 2, seq: 1, items: [] });
    link.send('cam-1', { v: 1, seq: 3, items: [item(1)] }, 'cam-2');
    link.send('cam-1', { v: 1, seq: 4, items: [{ ...item(5), shape: [4] }, item(6)] });
    await settle();
    expect(ingest.invalid).toBe(2);
    expect(ingest.invalidItems).toBe(1);
    expect((await world.samples.labelled({ limit: 10 })).map((r) => r.predictionId)).toEqual(['p6']);
    expect(link.published).toHaveLength(1);
  });

  it('stores nothing from a device whose desired state asks for no samples, and acknowledges it so it stops resending', async () => {
    link.send('cam-2', { v: 1, seq: 1, items: [item(1)] }); // no desired state at all
    await askForSamples(['cam-1'], 1 << 20, 0); // rate 0
    link.send('cam-1', { v: 1, seq: 2, items: [item(2), item(3)] });
    await settle();
    expect(await world.samples.countLabelled({})).toBe(0);
    expect(ingest.refused).toBe(3);
    expect(link.published.map((m) => m.topic).sort()).toEqual(['flotilla/devices/cam-1/ack', 'flotilla/devices/cam-2/ack']);
  });

  it('stores at most twice the byte budget per window from one device and model, then again in the next window', async () => {
    await askForSamples(['cam-1'], 24); // each item is 12 bytes: 4 fit in twice the budget
    link.send('cam-1', { v: 1, seq: 1, items: Array.from({ length: 50 }, (_, i) => item(i)) });
    await settle();
    expect(await world.samples.countLabelled({})).toBe(4);
    expect(ingest.refused).toBe(46);
    clock += 61_000;
    link.send('cam-1', { v: 1, seq: 2, items: [item(100), item(101)] });
    await settle();
    expect(await world.samples.countLabelled({})).toBe(6);
  });

  it('remembers what a device spent across a restart: a new ingest on the same store refuses it, an honest device is unaffected', async () => {
    await askForSamples(['cam-1', 'cam-2'], 24); // 12-byte items: 4 fit in twice the budget per window
    link.send('cam-1', { v: 1, seq: 1, items: Array.from({ length: 50 }, (_, i) => item(i)) });
    await settle();
    const stored = async (id: string) => (await world.samples.labelled({ limit: 1000 })).filter((r) => r.deviceId === id).length;
    expect(await stored('cam-1')).toBe(4);

    // The server restarts: a fresh ingest (empty memory) on the same store.
    await ingest.close();
    link = new FakeLink();
    ingest = new SamplesIngest({
      link,
      store: world.store,
      samples: world.samples,
      log: createLogger('silent'),
      prefix: 'flotilla',
      maxDelayMs: 5,
      now: () => clock,
    });
    await ingest.start();
    link.send('cam-1', { v: 1, seq: 2, items: [item(200), item(201)] });
    link.send('cam-2', { v: 1, seq: 1, items: [item(300), item(301)] });
    await settle();
    expect(await stored('cam-1')).toBe(4);
    expect(ingest.refused).toBe(2);
    // cam-2 spent nothing before the restart: its whole allowance is there.
    expect(await stored('cam-2')).toBe(2);
    // Refused items are still acknowledged, so the agent frees them.
    const acks = link.published.map((m) => ({ topic: m.topic, ack: decodeMessage(Ack, m.payload as Uint8Array) }));
    expect(acks).toEqual(
      expect.arrayContaining([
        { topic: 'flotilla/devices/cam-1/ack', ack: { v: 1, kind: 'samples', seqs: [2] } },
        { topic: 'flotilla/devices/cam-2/ack', ack: { v: 1, kind: 'samples', seqs: [1] } },
      ]),
    );

    // The next window gives cam-1 its budget again.
    clock += 61_000;
    link.send('cam-1', { v: 1, seq: 3, items: [item(202)] });
    await settle();
    expect(await stored('cam-1')).toBe(5);
  });
});
