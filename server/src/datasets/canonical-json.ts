// Canonical JSON: keys sorted by code unit, no whitespace. One value has exactly one encoding, so
// the bytes can be hashed to name it.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Encodes `value` canonically. Only finite numbers are allowed (JSON has no NaN or Infinity), and
 * `undefined` members are refused rather than silently dropped, since either would make two different
 * values share an encoding.
 */
export function canonicalJson(value: unknown): string {
  return encode(value as Json);
}

function encode(v: Json): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`canonical JSON cannot encode ${v}`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(member(v, k))}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot encode a ${typeof v}`);
}

function member(o: { [key: string]: Json }, k: string): Json {
  const m = o[k];
  if (m === undefined) throw new TypeError(`canonical JSON cannot encode undefined (key "${k}")`);
  return m;
}
