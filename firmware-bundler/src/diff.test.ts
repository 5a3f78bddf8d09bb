// Delta updates: a device holding version A fetches only the chunks of B it lacks (SPEC §12).
import { describe, expect, it } from 'vitest';
import { diffManifests, planFetch } from './diff.ts';
import { packBundle } from './pack.ts';
import { testPackInput, testSigner } from './testing/bundle-fixtures.ts';
import { SYNTHETIC_LAYERS, syntheticModel } from './testing/synthetic-model.ts';
import { readBundleHeader } from './container/decode-bundle.ts';

const pack = (model: Uint8Array, sequence: number) =>
  packBundle(testPackInput({ files: [{ path: 'model.onnx', bytes: model }], sequence, avgChunkSize: undefined }), testSigner('primary'));

const v1 = await pack(syntheticModel([1, 2, 3, 4]), 1);
const lastRetrained = await pack(syntheticModel([1, 2, 3, 40]), 2);
const middleRetrained = await pack(syntheticModel([1, 2, 30, 4]), 3);

describe('diffManifests [SPEC §12]', () => {
  it('a retrained last layer (<25% of the weights) costs at most 35% of the bundle', () => {
    const lastShare = SYNTHETIC_LAYERS.at(-1)! / SYNTHETIC_LAYERS.reduce((a, b) => a + b, 0);
    expect(lastShare).toBeLessThan(0.25);
    const d = diffManifests(v1.manifest, lastRetrained.manifest);
    expect(d.shareToFetch).toBeLessThanOrEqual(0.35);
    expect(d.shareToFetch).toBeGreaterThanOrEqual(lastShare * 0.95);
    expect(d.chunksReused + d.chunksToFetch).toBe(d.chunksTotal);
    expect(d.bytesReused + d.bytesToFetch).toBe(d.totalBytes);
    // Counting what a device really downloads: the signed head, then the missing chunks.
    const head = readBundleHeader(lastRetrained.bytes).headLength;
    expect((head + d.bytesToFetch) / lastRetrained.bytes.length).toBeLessThanOrEqual(0.35);
    expect(d.files).toEqual([expect.objectContaining({ path: 'model.onnx', status: 'changed' })]);
  });

  it('re-synchronizes after a change in the middle of the file too', () => {
    const d = diffManifests(v1.manifest, middleRetrained.manifest);
    expect(d.shareToFetch).toBeLessThanOrEqual(0.35);
    expect(d.chunksReused).toBeGreaterThan(0);
  });

  it('fetches nothing for an identical payload and everything with nothing held', () => {
    expect(diffManifests(v1.manifest, v1.manifest)).toMatchObject({ bytesToFetch: 0, chunksToFetch: 0, shareToFetch: 0 });
    const fresh = diffManifests(null, v1.manifest);
    expect(fresh).toMatchObject({ shareToFetch: 1, chunksReused: 0, bytesToFetch: fresh.totalBytes });
    expect(fresh.files[0]!.status).toBe('added');
  });

  it('planFetch uses any chunk store, so chunks held from older versions count too', () => {
    const held = new Set(v1.manifest.files.flatMap((f) => f.chunks.map((c) => c.digest)));
    for (const c of middleRetrained.manifest.files[0]!.chunks) held.add(c.digest);
    const plan = planFetch(lastRetrained.manifest, (d) => held.has(d));
    expect(plan.toFetch.length).toBe(plan.chunksToFetch);
    expect(plan.bytesToFetch).toBeLessThanOrEqual(diffManifests(v1.manifest, lastRetrained.manifest).bytesToFetch);
  });
});
