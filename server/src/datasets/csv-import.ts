// Imports a CSV stream as a canonical dataset version: parse, validate and clean row by row, write the
// FDS1 encoding to the blob store, and report on data quality. Memory stays bounded by one input chunk
// plus 16-46 bytes per distinct row (the duplicate filter), never by the file.
//
// Cleaning policy, decided here and reported so the operator can see it:
// - A row with the wrong number of fields (CSV_RAGGED), a non-numeric or out-of-float32-range feature
//   (CSV_NON_NUMERIC) or broken quoting (CSV_BAD_QUOTE) is rejected and listed with its line number.
//   More than `maxBadRows` of them fails the whole import (CSV_TOO_MANY_BAD_ROWS): past that point the
//   file is more likely wrong than dirty.
// - A row with a missing cell (empty, NA, N/A, NaN, null, None) is dropped and counted per column.
//   Imputing would invent data and bake a choice into an immutable version; training can't use NaN.
// - Exact duplicates (same float32 features and label) are dropped; the first occurrence stays.
// - Constant columns are reported but kept: dropping them would change the feature shape, and a column
//   constant in this sample may vary in the next one, which models and devices must still accept.
import type { BlobStore } from '../blob/blob-store.ts';
import { toLittleEndian } from './canonical-format.ts';
import { DatasetFileWriter } from './canonical-file-writer.ts';
import { sortClasses } from './class-order.ts';
import { CsvParser, DEFAULT_MAX_RECORD_CHARS } from './csv-parser.ts';
import type { CsvRecord } from './csv-parser.ts';
import { readRow } from './csv-row.ts';
import type { CsvLayout } from './csv-row.ts';
import { DatasetError } from './dataset-error.ts';
import type { DatasetMeta } from './dataset-types.ts';
import { ReportTally } from './import-report.ts';
import type { ImportReport } from './import-report.ts';
import { RowFingerprintSet } from './row-fingerprint-set.ts';
import { textChunks } from './text-chunks.ts';
import type { CsvSource } from './text-chunks.ts';

export interface ImportCsvOptions {
  /** Name of the label column in the header (matched after trimming). */
  label: string;
  /** Where the version is stored; its temp area holds the part files while importing. */
  blobs: BlobStore;
  /** Most rejected rows tolerated before the import fails; default 1000. 0 means any bad row fails it. */
  maxBadRows?: number;
  /** Longest record, in characters (bytes for ASCII); default 1 MiB. Longer fails with CSV_ROW_TOO_LONG. */
  maxRowBytes?: number;
  /** Most distinct labels; default 10,000. More fails with CSV_TOO_MANY_CLASSES (likely the wrong column). */
  maxClasses?: number;
}

export interface ImportResult {
  /** sha256 of the canonical FDS1 bytes: the version's name. Same data in, same digest out. */
  digest: string;
  /** Size of the canonical encoding in bytes. */
  bytes: number;
  meta: DatasetMeta;
  report: ImportReport;
}

/** Default for `maxBadRows`. */
export const DEFAULT_MAX_BAD_ROWS = 1000;
/** Default for `maxClasses`. */
export const DEFAULT_MAX_CLASSES = 10_000;

/**
 * Streams `source` (bytes or text, UTF-8, optional BOM, a header row first) into a new dataset version.
 * Fails with a DatasetError (CSV_EMPTY, CSV_NO_ROWS, CSV_BAD_HEADER, CSV_NO_FEATURES, CSV_LABEL_MISSING,
 * CSV_BAD_ENCODING, CSV_ROW_TOO_LONG, CSV_TOO_MANY_BAD_ROWS, CSV_TOO_MANY_CLASSES) or the source's own
 * error; a failed import leaves no temp file and no blob behind.
 */
export async function importCsv(source: CsvSource, opts: ImportCsvOptions): Promise<ImportResult> {
  const parser = new CsvParser(opts.maxRowBytes ?? DEFAULT_MAX_RECORD_CHARS);
  // The first record is the header; the run that handles the rows starts from it.
  const at: { run: ImportRun | null } = { run: null };
  const onRecord = (record: CsvRecord) => {
    if (at.run) at.run.row(record);
    else at.run = new ImportRun(record, opts);
  };
  try {
    for await (const text of textChunks(source)) {
      parser.push(text, onRecord);
      await at.run?.writer.drain();
    }
    parser.end(onRecord);
    if (!at.run) throw new DatasetError('CSV_EMPTY', 'the file is empty: a header row and data rows are required');
    return await at.run.finish(parser.blankLines);
  } catch (e) {
    await at.run?.writer.abort();
    throw e;
  }
}

// One import after its header: the layout, the tallies, the label ids and the writer.
class ImportRun {
  private readonly tally: ReportTally;
  private readonly seen = new RowFingerprintSet();
  private readonly labelIds = new Map<string, number>();
  private readonly labelCounts: number[] = [];
  private readonly features: Float32Array;
  // The row as the duplicate filter sees it: features then the provisional label id.
  private readonly rowKey: Int32Array;
  private readonly layout: CsvLayout;
  private readonly featureNames: string[];
  readonly writer: DatasetFileWriter;

  /** Starts from the header record; throws the header's DatasetError when it is unusable. */
  constructor(
    header: CsvRecord,
    private readonly opts: ImportCsvOptions,
  ) {
    const layout = (this.layout = readHeader(header, opts.label));
    const featureNames = (this.featureNames = layout.columns.filter((_, i) => i !== layout.labelIndex));
    this.writer = new DatasetFileWriter({ blobs: opts.blobs, featureShape: [featureNames.length], featureNames });
    this.tally = new ReportTally(layout.columns, featureNames);
    this.rowKey = new Int32Array(featureNames.length + 1);
    this.features = new Float32Array(this.rowKey.buffer, 0, featureNames.length);
  }

  row(record: CsvRecord): void {
    const tally = this.tally;
    tally.rowsRead++;
    const r = readRow(record, this.layout, this.features);
    if (r.kind === 'bad') {
      tally.bad({ line: record.line, code: r.code, reason: r.reason });
      const limit = this.opts.maxBadRows ?? DEFAULT_MAX_BAD_ROWS;
      if (tally.badRowCount > limit) {
        const lines = tally.badRows
          .slice(0, 10)
          .map((b) => b.line)
          .join(', ');
        throw new DatasetError(
          'CSV_TOO_MANY_BAD_ROWS',
          `more than ${limit} bad rows (first on lines ${lines}); the first is: ${tally.badRows[0]!.reason}`,
          {
            maxBadRows: limit,
            badRows: [...tally.badRows],
          },
        );
      }
      return;
    }
    if (r.kind === 'missing') {
      tally.missingCells(r.columns);
      return;
    }
    const id = this.labelId(r.label);
    this.rowKey[this.featureNames.length] = id;
    if (!this.seen.add(toLittleEndian(this.rowKey))) {
      tally.duplicatesDropped++;
      return;
    }
    this.writer.append(this.features, id);
    this.labelCounts[id]!++;
    tally.kept(this.features);
  }

  async finish(blankLines: number): Promise<ImportResult> {
    if (this.tally.rowsKept === 0) {
      const why =
        this.tally.rowsRead === 0 ? 'the file has a header but no data rows' : `none of the ${this.tally.rowsRead} rows survived cleaning`;
      throw new DatasetError('CSV_NO_ROWS', why, { report: this.tally.report({}, blankLines) });
    }
    const names = [...this.labelIds.keys()];
    const classes = sortClasses(names);
    const index = new Map(classes.map((c, i) => [c, i]));
    const remap = Int32Array.from(names, (n) => index.get(n)!);
    const { digest, bytes, meta } = await this.writer.finish(classes, remap);
    // No prototype: labels are file content, and `__proto__` or `constructor` must be counted like any other.
    const labelBalance: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const c of classes) labelBalance[c] = this.labelCounts[this.labelIds.get(c)!]!;
    return { digest, bytes, meta, report: this.tally.report(labelBalance, blankLines) };
  }

  private labelId(label: string): number {
    let id = this.labelIds.get(label);
    if (id === undefined) {
      const max = this.opts.maxClasses ?? DEFAULT_MAX_CLASSES;
      if (this.labelIds.size >= max) {
        throw new DatasetError(
          'CSV_TOO_MANY_CLASSES',
          `column "${this.opts.label}" has more than ${max} distinct labels; is it the label column?`,
          { maxClasses: max },
        );
      }
      id = this.labelIds.size;
      this.labelIds.set(label, id);
      this.labelCounts.push(0);
    }
    return id;
  }
}

/** Most columns a dataset may have: wider files are refused before any per-column work (50k froze the server). */
export const MAX_CSV_COLUMNS = 10_000;

/** The first column names, for messages and details that must stay small however wide the header is. */
const someColumns = (columns: readonly string[]) =>
  columns.length > 20 ? [...columns.slice(0, 20), `… ${columns.length - 20} more`] : [...columns];

function readHeader(header: CsvRecord, label: string): CsvLayout {
  if (header.malformed) throw new DatasetError('CSV_BAD_HEADER', `the header row is malformed: ${header.malformed}`);
  if (header.fields.length > MAX_CSV_COLUMNS) {
    throw new DatasetError(
      'CSV_TOO_MANY_COLUMNS',
      `the header has ${header.fields.length} columns; at most ${MAX_CSV_COLUMNS} are allowed`,
      { columns: header.fields.length, max: MAX_CSV_COLUMNS },
    );
  }
  const columns = header.fields.map((f) => f.trim());
  const blank = columns.findIndex((c) => c === '');
  if (blank >= 0) throw new DatasetError('CSV_BAD_HEADER', `header column ${blank + 1} has no name`, { columns: someColumns(columns) });
  // One pass with a Set: indexOf per column was quadratic in the header width.
  const seen = new Set<string>();
  const dup = columns.find((c) => seen.size === seen.add(c).size);
  if (dup !== undefined) throw new DatasetError('CSV_BAD_HEADER', `header names column "${dup}" twice`, { columns: someColumns(columns) });
  const labelIndex = columns.indexOf(label.trim());
  if (labelIndex < 0)
    throw new DatasetError('CSV_LABEL_MISSING', `label column "${label}" is not in the header (${someColumns(columns).join(', ')})`, {
      label,
      columns: someColumns(columns),
    });
  if (columns.length < 2) throw new DatasetError('CSV_NO_FEATURES', 'the file has a label column but no feature columns', { columns });
  return { columns, labelIndex };
}
