// A tiny strict validator (no dependency), so the browser-safe core can check manifests field by field.
import { BundleError } from '../errors.ts';

/** Checks a value at a JSON path; throws `BUNDLE_MALFORMED` naming the path on failure. */
export type Check = (value: unknown, path: string) => void;

/** Throws the schema failure for `path`. */
export function fail(path: string, expected: string): never {
  throw new BundleError('BUNDLE_MALFORMED', `manifest field ${path || '(root)'} must be ${expected}`, 'SPEC §4');
}

/** A string of 1..`max` characters, optionally matching `pattern`. */
export const str =
  (max = 256, pattern?: RegExp): Check =>
  (v, p) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || (pattern && !pattern.test(v))) {
      fail(p, `a string of 1-${max} characters${pattern ? ` matching ${pattern}` : ''}`);
    }
  };

/** A safe integer in [min, max]. */
export const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v, p) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(p, `an integer in [${min}, ${max}]`);
  };

/** A finite number, optionally at least `min`. */
export const num =
  (min = -Infinity): Check =>
  (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(p, `a finite number${min > -Infinity ? ` ≥ ${min}` : ''}`);
  };

export const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'a boolean');
};

/** One of the listed literal values. */
export const oneOf =
  (values: readonly unknown[]): Check =>
  (v, p) => {
    if (!values.includes(v)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  };

/** An array of at most `max` items (at least `min`), each passing `item`. */
export const arr =
  (item: Check, max: number, min = 0): Check =>
  (v, p) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) fail(p, `an array of ${min}-${max} items`);
    v.forEach((x, i) => item(x, `${p}[${i}]`));
  };

/** Either null or a value passing `check`. */
export const nullable =
  (check: Check): Check =>
  (v, p) => {
    if (v !== null) check(v, p);
  };

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An object with exactly these fields: `required` must be present, `optional` may be, and any
 * other key is rejected so a signed manifest cannot smuggle fields a reader would silently skip.
 */
export const obj =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, p) => {
    if (!isObject(v)) fail(p, 'an object');
    for (const [k, check] of Object.entries(required)) {
      if (!Object.hasOwn(v, k)) fail(`${p}.${k}`, 'present');
      check(v[k], `${p}.${k}`);
    }
    for (const k of Object.keys(v)) {
      if (Object.hasOwn(required, k)) continue;
      const check = Object.hasOwn(optional, k) ? optional[k] : undefined;
      if (!check) fail(`${p}.${k}`, 'absent (unknown field)');
      check(v[k], `${p}.${k}`);
    }
  };

/** An object of at most `max` entries whose keys match `keyCheck` and values pass `value`. */
export const record =
  (value: Check, max: number, keyCheck: Check = str(128)): Check =>
  (v, p) => {
    if (!isObject(v)) fail(p, 'an object');
    const keys = Object.keys(v);
    if (keys.length > max) fail(p, `an object of at most ${max} entries`);
    for (const k of keys) {
      keyCheck(k, `${p} key`);
      value(v[k], `${p}.${k}`);
    }
  };

/** Any JSON value (canonical JSON parsing already rejected what JSON cannot hold). */
export const anyJson: Check = () => {};
