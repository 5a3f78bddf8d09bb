// Numeric cells: exactly plain decimal notation is accepted, and its value is always Number()'s.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMissing, parseNumber } from './numeric-cell.ts';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

describe('parseNumber', () => {
  it('accepts plain decimals and nothing else', () => {
    for (const s of ['0', '-0', '+1', '1.', '.5', '-.5', '1e3', '1E-3', '2.5e+10', '007', '123456789012345678901234567890']) {
      expect(parseNumber(s)).toBe(Number(s));
    }
    for (const s of ['', '.', '-', '+', 'e3', '1e', '1e+', '0x1F', 'Infinity', 'NaN', '1,000', '1 2', '--1', '1.2.3', '١', '1_000', ' 1']) {
      expect(parseNumber(s)).toBeNull();
    }
  });

  it('agrees with the decimal grammar and with Number() on any string built from number characters', () => {
    const text = fc.string({ unit: fc.constantFrom(...'0123456789.eE+-'.split('')), maxLength: 30 });
    fc.assert(
      fc.property(text, (s) => {
        const v = parseNumber(s);
        if (DECIMAL.test(s)) expect(Object.is(v, Number(s))).toBe(true);
        else expect(v).toBeNull();
      }),
      { numRuns: 3000 },
    );
  });

  it('rounds exactly like Number() on random decimals, fast path or not', () => {
    const decimal = fc.tuple(
      fc.boolean(),
      fc.bigInt({ min: 0n, max: 10n ** 20n }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: -40, max: 40 }),
    );
    fc.assert(
      fc.property(decimal, ([neg, m, point, exp]) => {
        const digits = m.toString();
        const cut = Math.max(0, digits.length - point);
        const s = `${neg ? '-' : ''}${digits.slice(0, cut) || '0'}.${digits.slice(cut)}e${exp}`;
        expect(Object.is(parseNumber(s), Number(s))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('isMissing', () => {
  it('knows the usual spellings of no value, in any case, and nothing else', () => {
    for (const s of ['', 'NA', 'na', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']) expect(isMissing(s)).toBe(true);
    for (const s of ['0', 'n', 'nil', '-', '?', 'NAN!', 'nothing']) expect(isMissing(s)).toBe(false);
  });
});
