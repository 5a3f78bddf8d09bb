// The duplicate filter: exact-match semantics across growth, and no false duplicates at scale.
import { describe, expect, it } from 'vitest';
import { RowFingerprintSet } from './row-fingerprint-set.ts';

describe('RowFingerprintSet', () => {
  it('says a row is new once, and keeps saying so after many resizes', () => {
    const set = new RowFingerprintSet();
    const row = new Int32Array(3);
    const bytes = new Uint8Array(row.buffer);
    const initial = set.bytes;
    let added = 0;
    for (let i = 0; i < 100_000; i++) {
      row[0] = i;
      row[2] = i % 7;
      if (set.add(bytes)) added++;
    }
    expect(added).toBe(100_000);
    expect(set.bytes).toBeGreaterThan(initial);
    let again = 0;
    for (let i = 0; i < 100_000; i += 3) {
      row[0] = i;
      row[2] = i % 7;
      if (set.add(bytes)) again++;
    }
    expect(again).toBe(0);
    row[2] = 99; // same first word, different last word: a different row
    expect(set.add(bytes)).toBe(true);
    expect(set.size).toBe(100_001);
  });

  it('tells rows apart by every byte, including length', () => {
    const set = new RowFingerprintSet();
    expect(set.add(new Uint8Array([0, 0, 0, 0]))).toBe(true);
    expect(set.add(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]))).toBe(true);
    expect(set.add(new Uint8Array([0, 0, 0, 1]))).toBe(true);
    expect(set.add(new Uint8Array([0, 0, 0, 0]))).toBe(false);
    expect(set.add(new Uint8Array(0))).toBe(true);
    expect(set.add(new Uint8Array(0))).toBe(false);
  });
});
