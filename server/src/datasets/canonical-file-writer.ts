// Writes an FDS1 version to the blob store while rows stream in and the row count and class list are
// still unknown: features and provisional labels go to two part files, and `finish` joins header,
// features and remapped labels into one temp file that the blob store hashes and moves into place.
import { open, rm } from 'node:fs/promises';
import type { BlobInfo, BlobStore } from '../blob/blob-store.ts';
import { encodeDatasetHeader, featuresPerRow, toLittleEndian } from './canonical-format.ts';
import { DatasetError } from './dataset-error.ts';
import type { DatasetMeta } from './dataset-types.ts';
import { BufferedFile } from './buffered-file.ts';

const COPY_BUFFER_BYTES = 1 << 20;

export interface DatasetFileWriterOptions {
  blobs: BlobStore;
  /** Shape of one row; every appended row has product(featureShape) values. */
  featureShape: number[];
  /** Names of the features, or [] when unnamed. */
  featureNames: string[];
}

export class DatasetFileWriter {
  /** Rows appended so far. */
  rows = 0;
  private finalPath: string | null = null;
  private readonly perRow: number;
  private readonly label = new Int32Array(1);
  private readonly features: BufferedFile;
  private readonly labels: BufferedFile;

  /** Synchronous: the part files in the blob store's temp area are created at the first `drain`. */
  constructor(private readonly opts: DatasetFileWriterOptions) {
    this.perRow = featuresPerRow(opts.featureShape);
    this.features = new BufferedFile(opts.blobs.tempPath('fds-features'));
    this.labels = new BufferedFile(opts.blobs.tempPath('fds-labels'));
  }

  /**
   * Buffers one row. `features` must be finite with +0 for zero (the caller cleans them);
   * `labelId` is a provisional class id, mapped to its canonical index in `finish`.
   */
  append(features: Float32Array, labelId: number): void {
    if (features.length !== this.perRow) throw new RangeError(`row has ${features.length} features, expected ${this.perRow}`);
    this.features.push(toLittleEndian(features));
    this.label[0] = labelId;
    this.labels.push(toLittleEndian(this.label));
    this.rows++;
  }

  /** Writes out full buffers; await it once per input chunk to keep memory bounded. */
  async drain(): Promise<void> {
    await this.features.flush();
    await this.labels.flush();
  }

  /**
   * Completes the version and stores it. `classes` must be in canonical order and `remap[id]` gives the
   * canonical index of provisional id `id`. Returns the blob's digest and size and the header.
   * On failure everything written so far is removed.
   */
  async finish(classes: string[], remap: Int32Array): Promise<BlobInfo & { meta: DatasetMeta }> {
    try {
      await this.features.close();
      await this.labels.close();
      const meta: DatasetMeta = {
        featureNames: this.opts.featureNames,
        featureShape: this.opts.featureShape,
        classes,
        rows: this.rows,
        dtype: 'float32',
      };
      const finalPath = (this.finalPath = this.opts.blobs.tempPath('fds'));
      const out = new BufferedFile(finalPath);
      try {
        out.push(encodeDatasetHeader(meta));
        await copyInto(out, this.features.path, (chunk) => chunk);
        const remapper = new LabelRemapper(remap, classes.length);
        await copyInto(out, this.labels.path, (chunk) => remapper.map(chunk));
        remapper.end();
      } finally {
        await out.close();
      }
      await this.removeParts();
      const info = await this.opts.blobs.putFile(finalPath);
      return { ...info, meta };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Closes and removes every file this writer made. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.features.close(true).catch(() => {});
    await this.labels.close(true).catch(() => {});
    await this.removeParts();
    if (this.finalPath) await rm(this.finalPath, { force: true });
  }

  private async removeParts(): Promise<void> {
    await rm(this.features.path, { force: true });
    await rm(this.labels.path, { force: true });
  }
}

// Appends the file at `path` to `out` through one reused buffer: a read stream would allocate a fresh
// 64 KiB Buffer per chunk, garbage outside the JS heap that piles up to the file's size before a GC.
async function copyInto(out: BufferedFile, path: string, transform: (chunk: Uint8Array) => Uint8Array): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(COPY_BUFFER_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null);
      if (bytesRead === 0) return;
      out.push(transform(buf.subarray(0, bytesRead)));
      await out.flush();
    }
  } finally {
    await fh.close();
  }
}

// Rewrites little-endian provisional ids as canonical indices, in place (the chunk is a scratch buffer).
// A short read may cut a chunk mid-label, so a cut label's first bytes wait in `carry` for the next one.
class LabelRemapper {
  private carry = new Uint8Array(0);

  constructor(
    private readonly remap: Int32Array,
    private readonly numClasses: number,
  ) {}

  map(chunk: Uint8Array): Uint8Array {
    const joined = this.carry.byteLength ? concat(this.carry, chunk) : chunk;
    const whole = joined.byteLength - (joined.byteLength % 4);
    this.carry = joined.slice(whole);
    const view = new DataView(joined.buffer, joined.byteOffset, whole);
    for (let i = 0; i < whole; i += 4) {
      const id = view.getInt32(i, true);
      const mapped = this.remap[id];
      if (mapped === undefined || mapped < 0 || mapped >= this.numClasses) {
        throw new DatasetError('DATASET_INVALID', `provisional label ${id} has no canonical class`);
      }
      view.setInt32(i, mapped, true);
    }
    return joined.subarray(0, whole);
  }

  end(): void {
    if (this.carry.byteLength) throw new DatasetError('DATASET_INVALID', 'label part file ends mid-label');
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
