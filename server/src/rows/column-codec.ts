// How a store engine's driver hands over the column types that differ between engines: JSON as text (SQLite)
// or parsed jsonb and arrays (PostgreSQL), times as ISO text or TIMESTAMPTZ, booleans as 0/1 or boolean, 64-bit
// integers as numbers or text. Each engine states this once (store/sqlite/db.ts, store/postgres/pg-values.ts),
// and each domain maps its rows once with it (store/entity-rows.ts, events/webhook-row.ts). It imports nothing,
// so any domain may use it without an import circle.

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

export interface ColumnCodec {
  /** A JSON (or array) column; SQL NULL reads as null. */
  json<T>(v: unknown): T;
  /** A time column, as ISO-8601 UTC text. */
  time(v: unknown): string;
  /** A nullable time column. */
  timeOrNull(v: unknown): string | null;
  /** An integer column that may be 64-bit. */
  int(v: unknown): number;
  bool(v: unknown): boolean;
}
