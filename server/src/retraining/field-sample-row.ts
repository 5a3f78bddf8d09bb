// How a stored field_samples row reads back. Both store engines (store/sqlite, store/postgres) keep the same
// columns and differ only in how they hold the two list columns (SQLite: JSON text; PostgreSQL: arrays), so the
// mapping belongs to the retraining domain rather than to either engine.
import type { FeedbackSource, FieldSample, FieldSampleInfo } from './field-sample-store.ts';

/** A `field_samples` row without its input, as either engine returns it. */
export interface FieldSampleColumns {
  device_id: string;
  prediction_id: string;
  /** A JSON array (SQLite) or an array (PostgreSQL). */
  cohorts: string | string[];
  model: string;
  /** A JSON array (SQLite) or an array (PostgreSQL). */
  shape: string | number[];
  prediction: number;
  confidence: number;
  label: number | null;
  source: FeedbackSource | null;
  at: string;
}

/** A whole row (`SELECT *`). */
export type FieldSampleRow = FieldSampleColumns & { input: Uint8Array };
/** A listed row: the input's length instead of its bytes (PostgreSQL may return a bigint as text). */
export type FieldSampleInfoRow = FieldSampleColumns & { input_bytes: number | string };

const list = <T>(v: string | T[]): T[] => (typeof v === 'string' ? (JSON.parse(v) as T[]) : v);

const fields = (r: FieldSampleColumns): Omit<FieldSample, 'input'> => ({
  deviceId: r.device_id,
  predictionId: r.prediction_id,
  cohorts: list<string>(r.cohorts),
  model: r.model,
  shape: list<number>(r.shape),
  prediction: r.prediction,
  confidence: r.confidence,
  label: r.label,
  source: r.source,
  at: r.at,
});

/** A whole row as a FieldSample (its input copied out of the driver's buffer). */
export const toFieldSample = (r: FieldSampleRow): FieldSample => ({ ...fields(r), input: new Uint8Array(r.input) });

/** A listed row as a FieldSampleInfo. */
export const toFieldSampleInfo = (r: FieldSampleInfoRow): FieldSampleInfo => ({ ...fields(r), inputBytes: Number(r.input_bytes) });
