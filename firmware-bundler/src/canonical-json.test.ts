// Canonical JSON: one byte sequence per value; non-canonical manifests are refused (SPEC §3.1).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, parseCanonicalJson } from './canonical-json.ts';
import { utf8 } from './bytes.ts';
import { BundleError } from './errors.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as BundleError).code;
  }
  return 'no error';
};

describe('canonicalJson [SPEC §3.1]', () => {
  it('sorts keys by UTF-16 code units, recursively, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ z: true, y: null }], A: 'x', é: 2, '\u{1F600}': 3, '\uFFFF': 4 })).toBe(
      '{"A":"x","a":[{"y":null,"z":true}],"b":1,"é":2,"\u{1F600}":3,"\uFFFF":4}',
    );
  });

  it('writes numbers and strings as RFC 8785 requires', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 123456789012, 'a"\\\n\u0001'])).toBe('[1e+21,1e-7,0,0.1,123456789012,"a\\"\\\\\\n\\u0001"]');
  });

  it('leaves out undefined members but writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['bigint', 1n],
    ['function', () => 1],
    ['lone surrogate', '\uD800'],
    ['typed array', new Uint8Array(2)],
  ])('refuses %s with BUNDLE_INPUT_INVALID', (_name, value) => {
    expect(code(() => canonicalJson({ v: value }))).toBe('BUNDLE_INPUT_INVALID');
  });

  it('refuses cycles', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(code(() => canonicalJson(a))).toBe('BUNDLE_INPUT_INVALID');
  });

  it('round-trips any JSON value through parseCanonicalJson', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(canonicalJson(parseCanonicalJson(utf8(text)))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseCanonicalJson [SPEC §3.1]', () => {
  it.each([
    ['whitespace', '{ "a":1}'],
    ['unsorted keys', '{"b":1,"a":2}'],
    ['duplicate keys', '{"a":1,"a":1}'],
    ['non-shortest number', '{"a":1.0}'],
    ['escaped plain character', '{"a":"\\u0041"}'],
    ['trailing newline', '{"a":1}\n'],
    ['not JSON', '{"a":'],
  ])('refuses %s with BUNDLE_MALFORMED', (_name, text) => {
    expect(code(() => parseCanonicalJson(utf8(text)))).toBe('BUNDLE_MALFORMED');
  });

  it('refuses invalid UTF-8 and a byte-order mark', () => {
    expect(code(() => parseCanonicalJson(Uint8Array.of(0x7b, 0xff, 0x7d)))).toBe('BUNDLE_MALFORMED');
    expect(code(() => parseCanonicalJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)))).toBe('BUNDLE_MALFORMED');
  });
});
