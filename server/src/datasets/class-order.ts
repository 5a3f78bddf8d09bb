// The one canonical order of class labels, shared by the importer (which sorts) and the decoder
// (which checks): numeric labels sort as numbers, anything else by UTF-16 code unit.
import { parseNumber } from './numeric-cell.ts';

/**
 * Returns the labels in canonical order: when every label is a number (`"2"`, `"10"`, `"-1.5"`), by
 * numeric value, ties such as `"1"` and `"1.0"` broken by code unit; otherwise plain code-unit order,
 * which is locale-independent. Labels are never rewritten: `"1"` and `"1.0"` remain two classes.
 */
export function sortClasses(labels: readonly string[]): string[] {
  const numeric = labels.map(parseNumber);
  if (numeric.every((v) => v !== null)) {
    const pairs = labels.map((label, i) => ({ label, value: numeric[i]! }));
    pairs.sort((a, b) => a.value - b.value || byCodeUnit(a.label, b.label));
    return pairs.map((p) => p.label);
  }
  return [...labels].sort(byCodeUnit);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
