// The data quality report of a CSV import, and the running tallies it is built from.
import type { RowCode } from './csv-row.ts';

/** Range ratio between two features above which the report warns (see `scaleWarnings`). */
export const SCALE_WARNING_RATIO = 100;

/** How many bad rows a report lists; `badRowCount` counts them all. */
export const MAX_LISTED_BAD_ROWS = 100;

export interface BadRow {
  /** 1-based line on which the record starts (the header is line 1). */
  line: number;
  code: RowCode;
  reason: string;
}

/**
 * What an import read and what it did. Every data row read lands in exactly one bucket:
 * `rowsRead = rowsKept + duplicatesDropped + rowsWithMissing + badRowCount`.
 */
export interface ImportReport {
  /** Data records read (the header and blank lines are not rows). */
  rowsRead: number;
  /** Rows in the stored version. */
  rowsKept: number;
  /** Exact duplicates of an earlier kept row (same float32 features and label), dropped. */
  duplicatesDropped: number;
  /** Rows dropped because at least one cell was missing. */
  rowsWithMissing: number;
  /** Missing cells per column (features and label), over rows not rejected as bad; zero counts omitted. */
  missingValues: Record<string, number>;
  /** Feature columns holding one value across all kept rows. Kept in the data: see csv-import.ts. */
  constantColumns: string[];
  /** Kept rows per class (for canonical order iterate `meta.classes`: JS orders integer-like keys itself). */
  labelBalance: Record<string, number>;
  /** The first MAX_LISTED_BAD_ROWS rejected rows. */
  badRows: BadRow[];
  /** All rejected rows. */
  badRowCount: number;
  /**
   * Features whose value range dwarfs another's by more than SCALE_WARNING_RATIO: a model fed them unscaled
   * learns mostly from the wide one. Training standardises rank-1 features by default; the warning is for
   * whoever uses the data elsewhere, and so a surprising column shows up.
   */
  scaleWarnings: string[];
  /** Empty lines skipped. */
  blankLines: number;
}

/** Running tallies while rows stream; `report()` turns them into an ImportReport. */
export class ReportTally {
  rowsRead = 0;
  rowsKept = 0;
  duplicatesDropped = 0;
  rowsWithMissing = 0;
  badRowCount = 0;
  readonly badRows: BadRow[] = [];
  private readonly missing: Int32Array;
  private readonly min: Float32Array;
  private readonly max: Float32Array;

  constructor(
    private readonly columns: string[],
    private readonly featureNames: string[],
  ) {
    this.missing = new Int32Array(columns.length);
    this.min = new Float32Array(featureNames.length).fill(Infinity);
    this.max = new Float32Array(featureNames.length).fill(-Infinity);
  }

  bad(row: BadRow): void {
    this.badRowCount++;
    if (this.badRows.length < MAX_LISTED_BAD_ROWS) this.badRows.push(row);
  }

  missingCells(columnIndices: number[]): void {
    this.rowsWithMissing++;
    for (const c of columnIndices) this.missing[c]!++;
  }

  kept(features: Float32Array): void {
    this.rowsKept++;
    for (let i = 0; i < features.length; i++) {
      const v = features[i]!;
      if (v < this.min[i]!) this.min[i] = v;
      if (v > this.max[i]!) this.max[i] = v;
    }
  }

  report(labelBalance: Record<string, number>, blankLines: number): ImportReport {
    const missingValues: Record<string, number> = Object.create(null) as Record<string, number>; // column names are file content
    this.columns.forEach((name, c) => {
      if (this.missing[c]) missingValues[name] = this.missing[c]!;
    });
    const constantColumns = this.rowsKept ? this.featureNames.filter((_, i) => this.min[i] === this.max[i]) : [];
    const { rowsRead, rowsKept, duplicatesDropped, rowsWithMissing, badRows, badRowCount } = this;
    const scaleWarnings = this.rowsKept ? scaleWarningsOf(this.featureNames, this.min, this.max) : [];
    return {
      rowsRead,
      rowsKept,
      duplicatesDropped,
      rowsWithMissing,
      missingValues,
      constantColumns,
      labelBalance,
      badRows: [...badRows],
      badRowCount,
      blankLines,
      scaleWarnings,
    };
  }
}

/**
 * One line naming the widest and the narrowest non-constant feature when their ranges differ by more than
 * SCALE_WARNING_RATIO (one line, not one per pair: with many columns the pairs would drown the report).
 */
export function scaleWarningsOf(names: readonly string[], min: Float32Array, max: Float32Array): string[] {
  let wide = -1;
  let narrow = -1;
  const spanOf = (i: number) => max[i]! - min[i]!;
  names.forEach((_, i) => {
    if (!(spanOf(i) > 0)) return;
    if (wide < 0 || spanOf(i) > spanOf(wide)) wide = i;
    if (narrow < 0 || spanOf(i) < spanOf(narrow)) narrow = i;
  });
  if (wide < 0) return [];
  const ratio = spanOf(wide) / spanOf(narrow);
  if (!(ratio > SCALE_WARNING_RATIO)) return [];
  const span = (i: number) => `${names[i]} spans ${fmt(min[i]!)}..${fmt(max[i]!)}`;
  return [
    `feature scales differ ${fmt(ratio)}×: ${span(wide)}, ${span(narrow)}. Training standardises features by default (hyperparameter standardize: false turns it off); scale them yourself for models trained elsewhere.`,
  ];
}

const fmt = (v: number) => Number(v.toPrecision(3)).toString();
