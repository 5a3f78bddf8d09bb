// The streaming writer produces byte for byte what the in-memory encoder does, and cleans up after itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeDataset } from './canonical-format.ts';
import { DatasetFileWriter } from './canonical-file-writer.ts';
import { filesUnder, tempBlobs } from './dataset-test-kit.ts';

let kit: ReturnType<typeof tempBlobs>;
beforeEach(() => {
  kit = tempBlobs();
});
afterEach(() => kit.cleanup());

describe('DatasetFileWriter', () => {
  it('streams rows with provisional labels into the same bytes encodeDataset gives', async () => {
    const n = 300_000; // several 1 MiB buffers' worth, so flushing and label remapping cross chunk edges
    const writer = new DatasetFileWriter({ blobs: kit.blobs, featureShape: [2, 2], featureNames: [] });
    const x = new Float32Array(n * 4);
    const y = new Int32Array(n);
    const provisional = ['zebra', 'ant', 'moth']; // first-seen order; canonical order is ant, moth, zebra
    const remap = new Int32Array([2, 0, 1]);
    const row = new Float32Array(4);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 4; j++) row[j] = x[i * 4 + j] = i * 0.5 - j;
      const id = i % 3;
      y[i] = remap[id]!;
      writer.append(row, id);
      if (i % 10_000 === 0) await writer.drain();
    }
    const info = await writer.finish(['ant', 'moth', 'zebra'], remap);
    const meta = { featureNames: [], featureShape: [2, 2], classes: ['ant', 'moth', 'zebra'], rows: n, dtype: 'float32' as const };
    expect(info.meta).toEqual(meta);
    expect(provisional.map((_, id) => info.meta.classes[remap[id]!])).toEqual(provisional);
    const expected = encodeDataset(meta, { x, y, n, featureShape: [2, 2], numClasses: 3 });
    const stored = await kit.blobs.get(info.digest);
    expect(Buffer.from(stored!).equals(expected)).toBe(true); // toEqual on megabytes is needlessly slow
    expect(filesUnder(kit.tmpDir)).toEqual([]);
  });

  it('refuses a remap that points outside the classes, and leaves nothing', async () => {
    const writer = new DatasetFileWriter({ blobs: kit.blobs, featureShape: [1], featureNames: ['a'] });
    writer.append(new Float32Array([1]), 0);
    writer.append(new Float32Array([2]), 1);
    await writer.drain();
    await expect(writer.finish(['p', 'q'], new Int32Array([0, 2]))).rejects.toMatchObject({ code: 'DATASET_INVALID' });
    expect(filesUnder(kit.dir)).toEqual([]);
  });

  it('leaves nothing when aborted after writing', async () => {
    const writer = new DatasetFileWriter({ blobs: kit.blobs, featureShape: [1], featureNames: [] });
    for (let i = 0; i < 500_000; i++) writer.append(new Float32Array([i]), 0);
    await writer.drain();
    expect(filesUnder(kit.tmpDir).length).toBe(2);
    await writer.abort();
    await writer.abort();
    expect(filesUnder(kit.dir)).toEqual([]);
  });
});
