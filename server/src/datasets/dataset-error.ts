// Errors from dataset import, encoding and splitting. Callers match on `code`, never on the message.

/**
 * Stable error codes. `CSV_RAGGED`, `CSV_NON_NUMERIC` and `CSV_BAD_QUOTE` also appear per row in an
 * import report's `badRows`; the others end the whole operation.
 */
export type DatasetErrorCode =
  | 'DATASET_MALFORMED'
  | 'DATASET_INVALID'
  | 'CSV_EMPTY'
  | 'CSV_NO_ROWS'
  | 'CSV_BAD_HEADER'
  | 'CSV_NO_FEATURES'
  | 'CSV_LABEL_MISSING'
  | 'CSV_BAD_ENCODING'
  | 'CSV_ROW_TOO_LONG'
  | 'CSV_TOO_MANY_BAD_ROWS'
  | 'CSV_TOO_MANY_CLASSES'
  | 'CSV_RAGGED'
  | 'CSV_NON_NUMERIC'
  | 'CSV_BAD_QUOTE'
  | 'SPLIT_INVALID'
  | 'ROW_INDEX_OUT_OF_RANGE';

export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    /** Structured context for the API and CLI (e.g. the first bad rows); never needed to match. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}
