// Conversions between PostgreSQL values and entity fields, and the small query helpers every
// metadata domain of the PostgreSQL store shares.
import type { ColumnCodec } from '../../rows/column-codec.ts';
import type { Pool, PoolClient } from './pg-db.ts';

/** A pool or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

export type Row = Record<string, unknown>;

/** JSON text for a `$n::json` parameter, exactly as JSON.stringify writes it. */
export const jsonText = (v: unknown): string => JSON.stringify(v ?? null);

/**
 * JSON text for a `$n::jsonb` parameter (pg would turn a JS array into a PostgreSQL array literal).
 * JSONB refuses the escape `\u0000`, so a NUL inside a string is stored as U+FFFD instead of failing
 * the write; the lookbehind skips an escaped backslash followed by the letters `u0000`.
 */
export const json = (v: unknown): string => jsonText(v).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');

export const now = (): string => new Date().toISOString();

/** A TIMESTAMPTZ read back as ISO-8601 UTC with milliseconds (the form the SQLite store keeps). */
export function isoOrNull(v: unknown): string | null {
  if (v == null) return null;
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

export const iso = (v: unknown): string => isoOrNull(v) ?? '';

/** BIGINT columns arrive as strings (pg keeps 64-bit precision); every one of ours fits a double. */
export const num = (v: unknown): number => Number(v);

/** The constraint and detail of a unique violation (SQLSTATE 23505), or null for any other error. */
export function uniqueViolation(e: unknown): { constraint: string; detail: string } | null {
  const err = e as { code?: string; constraint?: string; detail?: string } | null;
  return err?.code === '23505' ? { constraint: err.constraint ?? '', detail: err.detail ?? '' } : null;
}

/** Positional parameters built alongside the SQL: `p(v)` appends `v` and returns its `$n`. */
export function params(): { args: unknown[]; p: (v: unknown) => string } {
  const args: unknown[] = [];
  return { args, p: (v) => `$${args.push(v)}` };
}

/** `LIKE` pattern matching strings that start with `prefix` taken literally. */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** PostgreSQL's column types (parsed jsonb and arrays, TIMESTAMPTZ, booleans, BIGINT as text) for the domains' shared row mappers (../../rows/column-codec.ts). */
export const PG_COLUMNS: ColumnCodec = {
  json: <T>(v: unknown) => (v ?? null) as T,
  time: iso,
  timeOrNull: isoOrNull,
  int: num,
  bool: (v) => v as boolean,
};
