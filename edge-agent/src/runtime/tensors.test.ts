// Tensor conversions against exact references: every float16 bit pattern, float32 → half rounding as numpy's,
// and the checks an app's values pass through (types, ranges, nesting, length).
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat, tensorToJson, toTensor, zeroTensor } from './tensors.ts';

describe('float16', () => {
  it('decodes and re-encodes every one of the 65,536 half bit patterns to itself (NaNs stay NaN)', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x) ? !Number.isNaN(halfToFloat(floatToHalf(x))) : floatToHalf(x) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to nearest, ties to even, overflows to infinity and underflows through subnormals to zero', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // halfway to the next power: rounds up to infinity
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10: even mantissa wins
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02: even
    expect(floatToHalf(2 ** -24)).toBe(1); // the smallest subnormal
    expect(floatToHalf(2 ** -26)).toBe(0);
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
  });
});

describe('toTensor', () => {
  const spec = (dtype: string, shape: (number | null)[]) => ({ name: 't', dtype, shape });

  it('keeps data already in the storage type without a copy, and converts number arrays', () => {
    const ids = BigInt64Array.from([1n, 2n]);
    expect(toTensor(spec('int64', [null, 2]), { dims: [1, 2], data: ids }).data).toBe(ids);
    expect(toTensor(spec('int64', [null, 2]), { dims: [1, 2], data: [1, -2] }).data).toEqual(BigInt64Array.from([1n, -2n]));
    expect(toTensor(spec('float16', [2]), { data: [1, -2] }).data).toEqual(Uint16Array.from([0x3c00, 0xc000]));
    expect(toTensor(spec('bool', [null]), { data: [true, false, 1], dims: [3] }).data).toEqual(Uint8Array.from([1, 0, 1]));
    expect(
      toTensor(spec('uint8', [2, 2]), {
        data: [
          [1, 2],
          [3, 255],
        ],
      }),
    ).toEqual({ type: 'uint8', dims: [2, 2], data: Uint8Array.from([1, 2, 3, 255]) });
  });

  it('refuses values outside the type and data that does not fill its dims', () => {
    expect(() => toTensor(spec('uint8', [1]), { data: [256] })).toThrow(/out of uint8 range/);
    expect(() => toTensor(spec('int32', [1]), { data: [0.5] })).toThrow(/int32 needs integers/);
    expect(() => toTensor(spec('bool', [1]), { data: Uint8Array.from([3]) })).toThrow(/bool needs/);
    expect(() => toTensor(spec('uint64', [1]), { data: [-1n] })).toThrow(/out of uint64 range/);
    expect(() => toTensor(spec('float32', [1]), { data: ['1'] as never })).toThrow(/float32 needs numbers/);
    expect(() => toTensor(spec('float32', [null, 2]), { dims: [2, 2], data: [1, 2, 3] })).toThrow(/need 4 values, got 3/);
    expect(() => toTensor(spec('float32', [null, 2]), { dims: [1, 2], data: [[1, 2]] })).not.toThrow();
    expect(() => toTensor(spec('float32', [null, 2]), { dims: [2, 1], data: [[1, 2]] })).toThrow(/do not match the nested data's/);
    expect(() => toTensor(spec('string', [1]), { data: [1] })).toThrow(/cannot feed/);
  });

  it('writes JSON with int64 as numbers, or as strings when one is beyond 2^53, and float16 decoded', () => {
    expect(tensorToJson({ type: 'int64', dims: [2], data: BigInt64Array.from([1n, -5n]) }).data).toEqual([1, -5]);
    expect(tensorToJson({ type: 'int64', dims: [2], data: BigInt64Array.from([1n, 2n ** 60n]) }).data).toEqual([
      '1',
      '1152921504606846976',
    ]);
    expect(tensorToJson({ type: 'float16', dims: [1], data: Uint16Array.from([0x3800]) }).data).toEqual([0.5]);
    expect(zeroTensor('bool', [2, 3])).toEqual({ type: 'bool', dims: [2, 3], data: new Uint8Array(6) });
  });
});
