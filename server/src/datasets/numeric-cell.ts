// What a numeric cell and a missing cell look like in an imported CSV.

// Spellings of "no value" written by pandas, R and spreadsheets (compared case-insensitively).
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);

// Exact powers of ten: every one up to 1e22 is representable in a double.
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const MAX_FAST_DIGITS = 15; // any 15-digit integer is exact in a double (< 2^53)

/**
 * The number a trimmed cell spells in plain decimal notation (`-1.5`, `.5`, `3.`, `2e-3`), or null
 * when it is not one. Number() alone would also take "0x1F", "Infinity" and "" (as 0), none of which
 * a data file should mean. The value always equals Number(cell): short inputs take Clinger's fast path
 * (an exact integer times or divided by an exact power of ten rounds once, correctly), others Number().
 */
export function parseNumber(cell: string): number | null {
  const n = cell.length;
  let i = 0;
  let c = cell.charCodeAt(0);
  const negative = c === 45; // '-'
  if (negative || c === 43) i++; // '+'
  let mantissa = 0;
  const intStart = i;
  while (i < n && (c = cell.charCodeAt(i)) >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    i++;
  }
  let digits = i - intStart;
  let fraction = 0;
  if (i < n && c === 46) {
    // '.'
    const start = ++i;
    while (i < n && (c = cell.charCodeAt(i)) >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      i++;
    }
    fraction = i - start;
    digits += fraction;
  }
  if (digits === 0) return null;
  let exponent = 0;
  if (i < n && (c === 101 || c === 69)) {
    // 'e' | 'E'
    c = cell.charCodeAt(++i);
    const expNegative = c === 45;
    if (expNegative || c === 43) i++;
    const start = i;
    while (i < n && (c = cell.charCodeAt(i)) >= 48 && c <= 57) {
      if (exponent < 1e6) exponent = exponent * 10 + (c - 48);
      i++;
    }
    if (i === start) return null;
    if (expNegative) exponent = -exponent;
  }
  if (i !== n) return null;
  const scale = exponent - fraction;
  if (digits > MAX_FAST_DIGITS || scale > 22 || scale < -22) return Number(cell);
  const v = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
  return negative ? -v : v;
}

/**
 * True when a trimmed cell means "no value": empty, or NA, N/A, NaN, null, None in any case.
 * Such rows are dropped and counted per column, not rejected as bad rows.
 */
export function isMissing(cell: string): boolean {
  return cell.length <= 4 && MISSING.has(cell.toLowerCase());
}
