// Reads one CSV record as a dataset row: numeric features into a reused buffer plus the label text,
// or the reason the row is rejected, or the columns whose values are missing.
import type { CsvRecord } from './csv-parser.ts';
import { isMissing, parseNumber } from './numeric-cell.ts';

/** Where the label and features sit in each record, from the header. */
export interface CsvLayout {
  /** Column names from the header, trimmed, in file order. */
  columns: string[];
  /** Index of the label column in `columns`. */
  labelIndex: number;
}

export type RowCode = 'CSV_RAGGED' | 'CSV_NON_NUMERIC' | 'CSV_BAD_QUOTE';

export type RowResult =
  | { kind: 'ok'; label: string }
  | { kind: 'bad'; code: RowCode; reason: string }
  /** Indices into `columns` of the missing cells. */
  | { kind: 'missing'; columns: number[] };

/**
 * Parses `record` into `features` (length: columns - 1, in column order without the label). Cells are
 * trimmed; features must be decimal numbers within float32 range, and -0 becomes +0 so equal values
 * have equal bytes. A row is bad before it is missing: a row with a non-numeric cell is rejected even
 * when another cell is empty.
 */
export function readRow(record: CsvRecord, layout: CsvLayout, features: Float32Array): RowResult {
  if (record.malformed) return { kind: 'bad', code: 'CSV_BAD_QUOTE', reason: record.malformed };
  const { columns, labelIndex } = layout;
  const fields = record.fields;
  if (fields.length !== columns.length) {
    return { kind: 'bad', code: 'CSV_RAGGED', reason: `expected ${columns.length} fields, found ${fields.length}` };
  }
  let missing: number[] | null = null;
  let f = 0;
  for (let c = 0; c < fields.length; c++) {
    const cell = fields[c]!.trim();
    if (isMissing(cell)) {
      (missing ??= []).push(c);
      if (c !== labelIndex) f++;
      continue;
    }
    if (c === labelIndex) continue;
    const v = parseNumber(cell);
    if (v === null) return { kind: 'bad', code: 'CSV_NON_NUMERIC', reason: `column "${columns[c]}": ${quote(cell)} is not a number` };
    const x = Math.fround(v);
    if (!Number.isFinite(x))
      return { kind: 'bad', code: 'CSV_NON_NUMERIC', reason: `column "${columns[c]}": ${quote(cell)} is outside float32 range` };
    features[f++] = x === 0 ? 0 : x;
  }
  if (missing) return { kind: 'missing', columns: missing };
  return { kind: 'ok', label: fields[labelIndex]!.trim() };
}

// Cells in reasons are cut short: a report should not carry a megabyte of junk per row.
function quote(cell: string): string {
  return JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell);
}
