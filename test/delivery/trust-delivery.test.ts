// Desired states carry the trust update: over a real SQLite registry and a real key ring, publishTrust gives
// every live device (three pages of them) one new revision with the update and nothing else changed, a
// repeat does nothing, a device whose bundle an operator changes mid-way keeps its new bundle, and a stored
// state older than the current update is published with the current one. The broker is the seam here: a
// double records what would be published (the end-to-end path is test/agent/key-rotation.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeMessage, DesiredState } from '@flotilla/firmware-bundler/wire';
import type { BrokerLink, OutboundMessage } from '../../server/src/broker/broker-link.ts';
import { createLogger } from '../../server/src/log/logger.ts';
import { openSqliteStore } from '../../server/src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../server/src/store/store.ts';
import { DEFAULT_TELEMETRY, DeliveryService } from '../../server/src/delivery/delivery-service.ts';
import { KeyRing } from '../../server/src/delivery/key-ring.ts';

const dir = mkdtempSync(join(tmpdir(), 'trust-delivery-'));
let store: Store;
let ring: KeyRing;
const published: OutboundMessage[] = [];
const link = { publish: async (m: OutboundMessage) => void published.push(m) } as unknown as BrokerLink;

const ref = (n: number) => ({
  id: String(n).repeat(64),
  model: 'm',
  version: `${n}.0.0`,
  sequence: n,
  manifestDigest: 'e'.repeat(64),
  bytes: 100,
});
const N = 1201;
const ids = Array.from({ length: N }, (_, i) => `d${String(i).padStart(4, '0')}`);
const bundleOf = (i: number) => (i % 3 === 2 ? null : ref(1 + (i % 3)));

beforeAll(async () => {
  store = openSqliteStore(join(dir, 'flotilla.db'));
  ring = await KeyRing.open(dir);
  await store.devices.createMany([...ids, 'revoked'].map((id) => ({ id, tokenHash: 'h' })));
  for (let i = 0; i < N; i++) {
    const b = bundleOf(i);
    await store.devices.setDesired(
      [ids[i]!],
      (rev) => ({ v: 1, rev, bundle: b, telemetry: DEFAULT_TELEMETRY, shadow: null, retry: 2, issuedAt: new Date().toISOString() }),
      b?.id ?? null,
    );
  }
  await store.devices.setDesired(
    ['revoked'],
    (rev) => ({ v: 1, rev, bundle: null, telemetry: DEFAULT_TELEMETRY, shadow: null, issuedAt: new Date().toISOString() }),
    null,
  );
  await store.devices.revoke('revoked');
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('gives every live device one new revision carrying the update, and nothing else changes', async () => {
  const delivery = new DeliveryService({ store, link, log: createLogger('silent'), prefix: 'flotilla/v1', trust: () => ring.trust() });
  expect(await delivery.publishTrust()).toBe(0); // version 0: nothing to send
  await ring.rotate();
  published.length = 0;
  expect(await delivery.publishTrust({ actor: 'tok_admin' })).toBe(N);
  expect(published).toHaveLength(N);
  for (const m of published) {
    const d = decodeMessage(DesiredState, m.payload);
    expect(d?.trust).toEqual(ring.trust());
    expect(m).toMatchObject({ qos: 1, retain: true });
  }
  for (const i of [0, 1, 2, 600, N - 1]) {
    const dev = (await store.devices.get(ids[i]!))!;
    expect(dev.desiredRev).toBe(2);
    expect(dev.desiredBundleId).toBe(bundleOf(i)?.id ?? null);
    expect(dev.desired).toMatchObject({ rev: 2, bundle: bundleOf(i), retry: 2, trust: { version: 1 } });
  }
  expect((await store.devices.get('revoked'))!.desired).not.toHaveProperty('trust');
  // Already there: a repeat writes and publishes nothing.
  published.length = 0;
  expect(await delivery.publishTrust()).toBe(0);
  expect(published).toHaveLength(0);
});

it('keeps a bundle an operator set while the update was being written', async () => {
  const moved = ids[0]!;
  const real = store.devices.listDesired.bind(store.devices);
  // Between reading the first page and writing it, the device is pointed at bundle 3.
  const racing = {
    ...store,
    devices: Object.assign(Object.create(store.devices) as Store['devices'], {
      listDesired: async (after: string | null, limit: number) => {
        const page = await real(after, limit);
        if (after === null) await store.devices.setDesired([moved], (rev, d) => ({ ...d.desired, rev, bundle: ref(3) }), ref(3).id);
        return page;
      },
    }),
  } as Store;
  const delivery = new DeliveryService({
    store: racing,
    link,
    log: createLogger('silent'),
    prefix: 'flotilla/v1',
    trust: () => ring.trust(),
  });
  await ring.rotate();
  expect(await delivery.publishTrust()).toBe(N);
  const dev = (await store.devices.get(moved))!;
  expect(dev.desiredBundleId).toBe(ref(3).id);
  expect(dev.desired).toMatchObject({ bundle: ref(3), trust: { version: 2 } });
});

it('publishes a stored state older than the current update with the current one', async () => {
  const delivery = new DeliveryService({ store, link, log: createLogger('silent'), prefix: 'flotilla/v1', trust: () => ring.trust() });
  const stale = ids[5]!;
  const old = (await store.devices.get(stale))!.desired!;
  await ring.rotate(); // version 3, not yet written into any stored state
  published.length = 0;
  expect(await delivery.republishAll()).toBe(N);
  const mine = published.find((m) => m.topic.endsWith(`/${stale}/desired`))!;
  expect(decodeMessage(DesiredState, mine.payload)).toMatchObject({ rev: (old as { rev: number }).rev, trust: { version: 3 } });
  // Only the published copy changed: the stored state gets its new revision from publishTrust.
  expect((await store.devices.get(stale))!.desired).toMatchObject({ rev: (old as { rev: number }).rev, trust: { version: 2 } });
});
