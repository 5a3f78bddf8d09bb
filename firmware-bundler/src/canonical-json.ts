// Canonical JSON (RFC 8785 JCS): one byte sequence per value, so signatures cover meaning, not layout (SPEC §3.1).
import { BundleError } from './errors.ts';
import { decodeUtf8Strict, utf8 } from './bytes.ts';

/** A value canonical JSON can encode. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Serializes `value` as RFC 8785 canonical JSON: object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as ECMAScript `JSON.stringify` writes them. Object members whose
 * value is `undefined` are left out (so optional TypeScript fields need no cleaning). Throws
 * `BUNDLE_INPUT_INVALID` on non-finite numbers, bigints, functions, symbols, lone surrogates and
 * cycles, which have no canonical form.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

/** {@link canonicalJson} as UTF-8 bytes: the exact bytes a manifest signature covers. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/**
 * Parses `bytes` as JSON and insists they are already canonical (strict UTF-8, no BOM, no
 * duplicate keys, sorted keys, no whitespace). Returns the value; throws `BUNDLE_MALFORMED`.
 */
export function parseCanonicalJson(bytes: Uint8Array): unknown {
  const text = decodeUtf8Strict(bytes);
  if (text === undefined) throw new BundleError('BUNDLE_MALFORMED', 'manifest is not valid UTF-8', 'SPEC §3.1');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleError('BUNDLE_MALFORMED', 'manifest is not valid JSON', 'SPEC §3.1');
  }
  let again: string;
  try {
    again = canonicalJson(value);
  } catch {
    throw new BundleError('BUNDLE_MALFORMED', 'manifest holds a value with no canonical form', 'SPEC §3.1');
  }
  // Duplicate keys, reordered keys, whitespace and non-shortest numbers all re-serialize differently.
  if (again !== text) throw new BundleError('BUNDLE_MALFORMED', 'manifest is not in canonical JSON form', 'SPEC §3.1');
  return value;
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`non-finite number ${value}`);
      return JSON.stringify(value);
    case 'string':
      if (hasLoneSurrogate(value)) throw invalid('string with a lone UTF-16 surrogate');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw invalid(`${typeof value} value`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw invalid('cyclic structure');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((v) => write(v === undefined ? null : v, seen)).join(',')}]`;
  } else if (ArrayBuffer.isView(obj)) {
    throw invalid('typed array (encode bytes as hex or base64 first)');
  } else {
    const rec = obj as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is exactly the RFC 8785 key order.
    const keys = Object.keys(rec)
      .filter((k) => rec[k] !== undefined)
      .sort();
    out = `{${keys.map((k) => `${write(k, seen)}:${write(rec[k], seen)}`).join(',')}}`;
  }
  seen.delete(obj);
  return out;
}

function hasLoneSurrogate(s: string): boolean {
  return /\p{Surrogate}/u.test(s);
}

function invalid(what: string): BundleError {
  return new BundleError('BUNDLE_INPUT_INVALID', `canonical JSON cannot encode a ${what}`, 'SPEC §3.1');
}
