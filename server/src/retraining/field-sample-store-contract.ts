// The FieldSampleStore contract: every implementation runs these cases (in store/sqlite/ and store/postgres/).
import { describe, expect, it } from 'vitest';
import { freshEach } from '../contract-suites/fresh-each.ts';
import type { FieldSample, FieldSampleStore } from './field-sample-store.ts';

/** Sample `i` of a device: 3 float32 inputs, predicted at second `i` of 2026. */
export function contractSample(deviceId: string, i: number, over: Partial<FieldSample> = {}): FieldSample {
  return {
    deviceId,
    predictionId: `p${i}`,
    cohorts: ['north'],
    model: 'toy',
    input: new Uint8Array(Float32Array.from([i, 0, 1]).buffer),
    shape: [3],
    prediction: i % 2,
    confidence: 0.75,
    label: i % 2,
    source: 'app',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    ...over,
  };
}

/** Runs the contract against a fresh store from `open` for every case; `close` releases it. */
export function fieldSampleStoreContract(name: string, open: () => Promise<{ store: FieldSampleStore; close(): Promise<void> }>): void {
  describe(`FieldSampleStore contract: ${name}`, () => {
    const withStore = freshEach(open, (h) => h.store);

    it(
      'stores samples as given and reads labelled ones back oldest first',
      withStore(async (s) => {
        const rows = [
          contractSample('cam-1', 2),
          contractSample('cam-1', 1, { cohorts: ['north', 'snowy'] }),
          contractSample('cam-1', 3, { label: null }),
        ];
        expect(await s.insertMany(rows)).toBe(3);
        const got = await s.labelled({ limit: 100 });
        expect(got).toEqual([rows[1], rows[0]]);
        expect(Array.from(new Float32Array(got[0]!.input.slice().buffer))).toEqual([1, 0, 1]);
        expect(await s.insertMany([])).toBe(0);
      }),
    );

    it(
      'a resend is stored once and only gains a missing label',
      withStore(async (s) => {
        await s.insertMany([contractSample('cam-1', 1, { label: null }), contractSample('cam-1', 2, { label: 0 })]);
        expect(
          await s.insertMany([
            contractSample('cam-1', 1, { label: 7 }),
            contractSample('cam-1', 2, { label: 1, confidence: 0.1 }),
            contractSample('cam-2', 1),
          ]),
        ).toBe(1);
        const got = await s.labelled({ limit: 100 });
        expect(got.map((r) => [r.deviceId, r.predictionId, r.label, r.confidence])).toEqual([
          ['cam-1', 'p1', 7, 0.75],
          ['cam-2', 'p1', 1, 0.75],
          ['cam-1', 'p2', 0, 0.75],
        ]);
      }),
    );

    it(
      'filters by cohort, model and time; the limit keeps the newest',
      withStore(async (s) => {
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
        expect((await s.labelled({ model: 'toy', since: contractSample('x', 5).at, limit: 10 })).map((r) => r.predictionId)).toEqual([
          'p5',
          'p11',
        ]);
        expect(await s.labelled({ cohort: 'sunny', limit: 10 })).toEqual([]);
      }),
    );

    it(
      'prunes by the time samples were received, then the oldest received beyond a byte budget',
      withStore(async (s) => {
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
      }),
    );

    it(
      "keeps each label's source, takes a late label's source with it, and filters by source",
      withStore(async (s) => {
        await s.insertMany([
          contractSample('cam-1', 1),
          contractSample('cam-1', 2, { source: 'local-api' }),
          contractSample('cam-2', 3, { source: 'unknown' }),
          contractSample('cam-2', 4, { label: null, source: null }),
        ]);
        // The resend labels p4 through the local API; a resend of p1 claiming another source changes nothing.
        await s.insertMany([
          contractSample('cam-2', 4, { label: 1, source: 'local-api' }),
          contractSample('cam-1', 1, { label: 0, source: 'local-api' }),
        ]);
        expect((await s.labelled({ limit: 10 })).map((r) => [r.predictionId, r.label, r.source])).toEqual([
          ['p1', 1, 'app'],
          ['p2', 0, 'local-api'],
          ['p3', 1, 'unknown'],
          ['p4', 1, 'local-api'],
        ]);
        expect((await s.labelled({ sources: ['app', 'unknown'], limit: 10 })).map((r) => r.predictionId)).toEqual(['p1', 'p3']);
        expect(await s.countLabelled({ sources: ['local-api'] })).toBe(2);
        expect(await s.countLabelled({ sources: ['operator'] })).toBe(0);
        expect(await s.countLabelled({ model: 'toy', sources: ['app', 'local-api', 'operator', 'unknown'] })).toBe(4);
      }),
    );

    it(
      'lists samples newest first without inputs, filtered by model, device, source and labelled',
      withStore(async (s) => {
        await s.insertMany([
          contractSample('cam-1', 1),
          contractSample('cam-2', 2, { source: 'local-api', model: 'other' }),
          contractSample('cam-2', 3, { label: null, source: null }),
        ]);
        const all = await s.list({ limit: 10 });
        expect(all).toEqual(
          [
            { ...contractSample('cam-2', 3, { label: null, source: null }), input: undefined, inputBytes: 12 },
            { ...contractSample('cam-2', 2, { source: 'local-api', model: 'other' }), input: undefined, inputBytes: 12 },
            { ...contractSample('cam-1', 1), input: undefined, inputBytes: 12 },
          ].map(({ input: _, ...rest }) => rest),
        );
        expect((await s.list({ source: 'local-api', limit: 10 })).map((r) => r.predictionId)).toEqual(['p2']);
        expect((await s.list({ deviceId: 'cam-2', labelled: false, limit: 10 })).map((r) => r.predictionId)).toEqual(['p3']);
        expect((await s.list({ labelled: true, model: 'toy', limit: 10 })).map((r) => r.predictionId)).toEqual(['p1']);
        expect((await s.list({ limit: 1 })).map((r) => r.predictionId)).toEqual(['p3']);
      }),
    );

    it(
      "an operator's label replaces a device's and says so; unknown samples are not created",
      withStore(async (s) => {
        await s.insertMany([
          contractSample('cam-1', 1, { source: 'local-api' }),
          contractSample('cam-1', 2, { label: null, source: null }),
        ]);
        const n = await s.relabel([
          { deviceId: 'cam-1', predictionId: 'p1', label: 0 },
          { deviceId: 'cam-1', predictionId: 'p2', label: 3 },
          { deviceId: 'cam-9', predictionId: 'p1', label: 1 },
        ]);
        expect(n).toBe(2);
        expect((await s.labelled({ limit: 10 })).map((r) => [r.predictionId, r.label, r.source])).toEqual([
          ['p1', 0, 'operator'],
          ['p2', 3, 'operator'],
        ]);
        // A device resending its own label later does not take the sample back.
        await s.insertMany([contractSample('cam-1', 1, { label: 1, source: 'app' })]);
        expect((await s.labelled({ sources: ['operator'], limit: 10 })).map((r) => r.predictionId)).toEqual(['p1', 'p2']);
        expect(await s.relabel([])).toBe(0);
      }),
    );

    it(
      'sums the input bytes one device stored for one model since a time it was received',
      withStore(async (s) => {
        await s.insertMany([
          contractSample('cam-1', 1),
          contractSample('cam-1', 2, { label: null }),
          contractSample('cam-1', 3, { model: 'other' }),
          contractSample('cam-2', 4),
        ]);
        await new Promise((r) => setTimeout(r, 5));
        const between = Date.now();
        await new Promise((r) => setTimeout(r, 5));
        await s.insertMany([contractSample('cam-1', 5)]);
        // 12 bytes each; labelled or not, every stored input counts.
        expect(await s.bytesReceived('cam-1', 'toy', 0)).toBe(36);
        expect(await s.bytesReceived('cam-1', 'toy', between)).toBe(12);
        expect(await s.bytesReceived('cam-1', 'other', 0)).toBe(12);
        expect(await s.bytesReceived('cam-3', 'toy', 0)).toBe(0);
      }),
    );

    it(
      'orders samples predicted at the same time by device, then prediction id',
      withStore(async (s) => {
        const at = '2026-01-01T00:00:00.000Z';
        await s.insertMany([contractSample('b', 1, { at }), contractSample('a', 2, { at }), contractSample('a', 1, { at })]);
        expect((await s.labelled({ limit: 10 })).map((r) => `${r.deviceId}/${r.predictionId}`)).toEqual(['a/p1', 'a/p2', 'b/p1']);
      }),
    );
  });
}
