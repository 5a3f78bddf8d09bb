// Errors from dataset import, encoding and splitting. Callers match on `code`, never on the message.
import { DomainError } from '../errors/domain-error.ts';

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
  | 'CSV_TOO_MANY_COLUMNS'
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
  | 'ROW_INDEX_OUT_OF_RANGE'
  | 'INVALID_DATASET_NAME'
  | 'LABEL_REQUIRED';

export class DatasetError extends DomainError<DatasetErrorCode> {
  /** `details`: e.g. the first bad rows. Every dataset error is the upload's or the request's fault: a 400. */
  constructor(code: DatasetErrorCode, message: string, details?: unknown) {
    super(code, message, details, 400);
  }
}
