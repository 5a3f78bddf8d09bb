// Public face of datasets: canonical FDS1 versions, CSV import, deterministic splits.
export { DatasetError } from './dataset-error.ts';
export type { DatasetErrorCode } from './dataset-error.ts';
export type { Dataset, DatasetMeta } from './dataset-types.ts';
export {
  decodeDataset,
  decodeDatasetHeader,
  encodeDataset,
  encodeDatasetHeader,
  encodedSize,
  featuresPerRow,
  FDS_MAGIC,
  FDS_VERSION,
} from './canonical-format.ts';
export { DatasetFileWriter } from './canonical-file-writer.ts';
export type { DatasetFileWriterOptions } from './canonical-file-writer.ts';
export { sortClasses } from './class-order.ts';
export { importCsv, DEFAULT_MAX_BAD_ROWS, DEFAULT_MAX_CLASSES } from './csv-import.ts';
export type { ImportCsvOptions, ImportResult } from './csv-import.ts';
export type { CsvSource } from './text-chunks.ts';
export type { BadRow, ImportReport } from './import-report.ts';
export { MAX_LISTED_BAD_ROWS } from './import-report.ts';
export { splitDataset, splitIndices, takeRows } from './splits.ts';
export type { SplitFractions, SplitIndices } from './splits.ts';
