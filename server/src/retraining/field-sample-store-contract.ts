// The FieldSampleStore contract: every implementation runs these cases (in store/sqlite/ and store/postgres/).
import { describe, expect, it } from 'vitest';
import type { FieldSample, FieldSampleStore } from './field-sample-store.ts';

/** Sample `i` of a device: 3 float32 inputs, predicted at second `i` of 2026. */
export function contractSample(deviceId: string, i: number, over: Partial<FieldSample> = {}): FieldSample {
  return {
    deviceId, predictionId: `p${i}`, cohorts: ['north'], model: 'toy', input: new Uint8Array(Float32Array.from([i, 0, 1]).buffer), shape: [3],
    prediction: i % 2, confidence: 0.75, label: i % 2, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ...over,
  };
}

/** Runs the contract against a fresh store from `open` for every case; `close` releases it. */
export function fieldSampleStoreContract(name: string, open: () => Promise<{ store: FieldSampleStore; close(): Promise<void> }>): void {
  describe(`FieldSampleStore contract: ${name}`, () => {
    const withStore = (fn: (s: FieldSampleStore) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h.store);
      } finally {
        await h.close();
      }
    };

    it('stores samples as given and reads labelled ones back oldest first', withStore(async (s) => {
      const rows = [contractSample('cam-1', 2), contractSample('cam-1', 1, { cohorts: ['north', 'snowy'] }), contractSample('cam-1', 3, { label: null })];
      expect(await s.insertMany(rows)).toBe(3);
      const got = await s.labelled({ limit: 100 });
      expect(got).toEqual([rows[1], rows[0]]);
      expect(Array.from(new Float32Array(got[0]!.input.slice().buffer))).toEqual([1, 0, 1]);
      expect(await s.insertMany([])).toBe(0);
    }));

    it('a resend is stored once and only gains a missing label', withStore(async (s) => {
      await s.insertMany([contractSample('cam-1', 1, { label: null }), contractSample('cam-1', 2, { label: 0 })]);
      expect(await s.insertMany([contractSample('cam-1', 1, { label: 7 }), contractSample('cam-1', 2, { label: 1, confidence: 0.1 }), contractSample('cam-2', 1)])).toBe(1);
      const got = await s.labelled({ limit: 100 });
      expect(got.map((r) => [r.deviceId, r.predictionId, r.label, r.confidence])).toEqual([['cam-1', 'p1', 7, 0.75], ['cam-2', 'p1', 1, 0.75], ['cam-1', 'p2', 0, 0.75]]);
    }));

    it('filters by cohort, model and time; the limit keeps the newest', withStore(async (s) => {
      await s.insertMany([
        ...Array.from({ length: 6 }, (_, i) => contractSample('cam-1', i, { cohorts: ['north', 'snowy'] })),
        contractSample('cam-2', 10, { model: 'other' }),
        contractSample('cam-3', 11, { cohorts: ['snowy-ish'] }),
      ]);
      expect(await s.countLabelled({})).toBe(8);
      expect(await s.countLabelled({ cohort: 'snowy' })).toBe(6);
      expect(await s.countLabelled({ model: 'other' })).toBe(1);
      expect(await s.countLabelled({ since: contractSample('x', 4).at })).toBe(4);
      expect((await s.labelled({ cohort: 'snowy', limit: 2 })).map((r) => r.predictionId)).toEqual(['p4', 'p5']);
      expect((await s.labelled({ model: 'toy', since: contractSample('x', 5).at, limit: 10 })).map((r) => r.predictionId)).toEqual(['p5', 'p11']);
      expect(await s.labelled({ cohort: 'sunny', limit: 10 })).toEqual([]);
    }));

    it('prunes by the time samples were received, then the oldest received beyond a byte budget', withStore(async (s) => {
      const tick = () => new Promise((r) => setTimeout(r, 5));
      await s.insertMany([contractSample('cam-1', 1), contractSample('cam-1', 2)]);
      await tick();
      const between = Date.now();
      await tick();
      await s.insertMany([contractSample('cam-1', 3), contractSample('cam-2', 4)]);
      await tick();
      await s.insertMany([contractSample('cam-2', 5)]);
      expect(await s.prune({ receivedBefore: between, maxBytes: 1e12 })).toBe(2);
      expect(await s.countLabelled({})).toBe(3);
      // Each input is 12 bytes: 24 keeps the two received last.
      expect(await s.prune({ receivedBefore: 0, maxBytes: 24 })).toBe(1);
      expect((await s.labelled({ limit: 10 })).map((r) => `${r.deviceId}/${r.predictionId}`).sort()).toEqual(['cam-2/p4', 'cam-2/p5']);
      expect(await s.prune({ receivedBefore: Date.now() + 1, maxBytes: 1e12 })).toBe(2);
      expect(await s.countLabelled({})).toBe(0);
    }));

    it('sums the input bytes one device stored for one model since a time it was received', withStore(async (s) => {
      await s.insertMany([contractSample('cam-1', 1), contractSample('cam-1', 2, { label: null }), contractSample('cam-1', 3, { model: 'other' }), contractSample('cam-2', 4)]);
      await new Promise((r) => setTimeout(r, 5));
      const between = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      await s.insertMany([contractSample('cam-1', 5)]);
      // 12 bytes each; labelled or not, every stored input counts.
      expect(await s.bytesReceived('cam-1', 'toy', 0)).toBe(36);
      expect(await s.bytesReceived('cam-1', 'toy', between)).toBe(12);
      expect(await s.bytesReceived('cam-1', 'other', 0)).toBe(12);
      expect(await s.bytesReceived('cam-3', 'toy', 0)).toBe(0);
    }));

    it('orders samples predicted at the same time by device, then prediction id', withStore(async (s) => {
      const at = '2026-01-01T00:00:00.000Z';
      await s.insertMany([contractSample('b', 1, { at }), contractSample('a', 2, { at }), contractSample('a', 1, { at })]);
      expect((await s.labelled({ limit: 10 })).map((r) => `${r.deviceId}/${r.predictionId}`)).toEqual(['a/p1', 'a/p2', 'b/p1']);
    }));
  });
}
