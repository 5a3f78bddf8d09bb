// FDS1 encoding: round trips, strict canonical form, and refusal of truncated or corrupt bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDataset, decodeDatasetHeader, encodeDataset, encodeDatasetHeader, encodedSize } from './canonical-format.ts';
import { DatasetError } from './dataset-error.ts';
import type { Dataset, DatasetMeta } from './dataset-types.ts';

const meta: DatasetMeta = { featureNames: ['a', 'b', 'c'], featureShape: [3], classes: ['cat', 'dog'], rows: 2, dtype: 'float32' };
const data: Dataset = {
  x: new Float32Array([1, -2.5, 0, 3e10, 0.1, -0]),
  y: new Int32Array([1, 0]),
  n: 2,
  featureShape: [3],
  numClasses: 2,
};

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DatasetError) return e.code;
    throw e;
  }
  return undefined;
}

describe('encodeDataset / decodeDataset', () => {
  it('round-trips features, labels and header, and writes the documented layout', () => {
    const bytes = encodeDataset(meta, data);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('FDS1');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(4, true)).toBe(1);
    const h = view.getUint32(8, true);
    expect(h % 4).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(12, 12 + h)).trimEnd()).toBe(
      '{"classes":["cat","dog"],"dtype":"float32","featureNames":["a","b","c"],"featureShape":[3],"rows":2}',
    );
    expect(view.getFloat32(12 + h + 4, true)).toBe(-2.5);
    expect(view.getInt32(12 + h + 24, true)).toBe(1);
    expect(bytes.byteLength).toBe(encodedSize(meta));
    const back = decodeDataset(bytes);
    expect(back.meta).toEqual(meta);
    expect(Array.from(back.data.x)).toEqual([1, -2.5, 0, Math.fround(3e10), Math.fround(0.1), 0]);
    expect(Object.is(back.data.x[5], 0)).toBe(true); // -0 was written as +0
    expect(Array.from(back.data.y)).toEqual([1, 0]);
    expect(back.data).toMatchObject({ n: 2, featureShape: [3], numClasses: 2 });
  });

  it('encodes an MNIST-shaped dataset with unnamed features and decodes from an unaligned buffer', () => {
    const m: DatasetMeta = {
      featureNames: [],
      featureShape: [28, 28, 1],
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      rows: 3,
      dtype: 'float32',
    };
    const x = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 255) / 255);
    const bytes = encodeDataset(m, { x, y: new Int32Array([9, 0, 4]), n: 3, featureShape: [28, 28, 1], numClasses: 10 });
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    const back = decodeDataset(shifted);
    expect(back.data.x).toEqual(x);
    expect(Array.from(back.data.y)).toEqual([9, 0, 4]);
  });

  it('is deterministic: the same dataset always gives the same bytes', () => {
    expect(encodeDataset(meta, data)).toEqual(encodeDataset({ ...meta }, { ...data, x: data.x.slice() }));
  });

  it('refuses to encode data that disagrees with its header or is not canonical', () => {
    expect(code(() => encodeDataset(meta, { ...data, x: new Float32Array([1, 2, NaN, 4, 5, 6]) }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset(meta, { ...data, x: new Float32Array([1, 2, Infinity, 4, 5, 6]) }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset(meta, { ...data, y: new Int32Array([2, 0]) }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset(meta, { ...data, y: new Int32Array([-1, 0]) }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset(meta, { ...data, x: new Float32Array(5) }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset({ ...meta, rows: 3 }, data))).toBe('DATASET_INVALID');
    expect(code(() => encodeDataset(meta, { ...data, numClasses: 3 }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, classes: ['dog', 'cat'] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, classes: ['10', '9'] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, classes: ['a', 'a'] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, classes: [] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, featureNames: ['a', 'b'] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, featureShape: [0] }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, rows: 1.5 }))).toBe('DATASET_INVALID');
    expect(code(() => encodeDatasetHeader({ ...meta, extra: 1 } as DatasetMeta))).toBe('DATASET_INVALID');
  });
});

describe('decodeDataset on bad bytes [FDS1-8]', () => {
  const good = encodeDataset(meta, data);
  const h = new DataView(good.buffer).getUint32(8, true);
  const dataOffset = 12 + h;

  function withHeader(json: string): Uint8Array {
    const text = new TextEncoder().encode(json.padEnd(Math.ceil(json.length / 4) * 4, ' '));
    const out = new Uint8Array(12 + text.byteLength + good.byteLength - dataOffset);
    out.set(good.subarray(0, 12));
    new DataView(out.buffer).setUint32(8, text.byteLength, true);
    out.set(text, 12);
    out.set(good.subarray(dataOffset), 12 + text.byteLength);
    return out;
  }

  it('refuses every truncation and any trailing byte', () => {
    for (let len = 0; len < good.byteLength; len++) expect(code(() => decodeDataset(good.subarray(0, len)))).toBe('DATASET_MALFORMED');
    const longer = new Uint8Array(good.byteLength + 1);
    longer.set(good);
    expect(code(() => decodeDataset(longer))).toBe('DATASET_MALFORMED');
  });

  it('refuses a wrong magic, version or header length', () => {
    const bad = (patch: (b: Uint8Array) => void) => {
      const b = good.slice();
      patch(b);
      return code(() => decodeDataset(b));
    };
    expect(bad((b) => (b[3] = 0x32))).toBe('DATASET_MALFORMED');
    expect(bad((b) => new DataView(b.buffer).setUint32(4, 2, true))).toBe('DATASET_MALFORMED');
    expect(bad((b) => new DataView(b.buffer).setUint32(8, h + 1, true))).toBe('DATASET_MALFORMED');
    expect(bad((b) => new DataView(b.buffer).setUint32(8, 0xfffffff0, true))).toBe('DATASET_MALFORMED');
  });

  it('refuses a header that is not canonical JSON of a valid header', () => {
    const canonical = '{"classes":["cat","dog"],"dtype":"float32","featureNames":["a","b","c"],"featureShape":[3],"rows":2}';
    expect(decodeDataset(withHeader(canonical)).meta).toEqual(meta);
    expect(code(() => decodeDataset(withHeader(canonical.replace(',"dtype', ', "dtype'))))).toBe('DATASET_MALFORMED');
    expect(
      code(() =>
        decodeDataset(withHeader('{"dtype":"float32","classes":["cat","dog"],"featureNames":["a","b","c"],"featureShape":[3],"rows":2}')),
      ),
    ).toBe('DATASET_MALFORMED');
    expect(code(() => decodeDataset(withHeader(canonical.replace('"cat","dog"', '"dog","cat"'))))).toBe('DATASET_MALFORMED');
    expect(code(() => decodeDataset(withHeader(canonical.replace('float32', 'float64'))))).toBe('DATASET_MALFORMED');
    expect(code(() => decodeDataset(withHeader(canonical.replace('"rows":2', '"rows":2.0'))))).toBe('DATASET_MALFORMED');
    expect(code(() => decodeDataset(withHeader(canonical.slice(0, -1))))).toBe('DATASET_MALFORMED');
    expect(code(() => decodeDataset(withHeader('[]')))).toBe('DATASET_MALFORMED');
    const invalidUtf8 = withHeader(canonical);
    invalidUtf8[14] = 0xff;
    expect(code(() => decodeDataset(invalidUtf8))).toBe('DATASET_MALFORMED');
  });

  it('refuses NaN, Infinity, -0 and out-of-range labels in the body', () => {
    const bad = (offset: number, set: (v: DataView) => void) => {
      const b = good.slice();
      set(new DataView(b.buffer, offset));
      return code(() => decodeDataset(b));
    };
    expect(bad(dataOffset, (v) => v.setFloat32(0, NaN, true))).toBe('DATASET_MALFORMED');
    expect(bad(dataOffset, (v) => v.setFloat32(0, -Infinity, true))).toBe('DATASET_MALFORMED');
    expect(bad(dataOffset, (v) => v.setFloat32(0, -0, true))).toBe('DATASET_MALFORMED');
    expect(bad(dataOffset + 24, (v) => v.setInt32(0, 2, true))).toBe('DATASET_MALFORMED');
    expect(bad(dataOffset + 24, (v) => v.setInt32(0, -1, true))).toBe('DATASET_MALFORMED');
  });

  it('either refuses a corrupted encoding or decodes it to data whose encoding is exactly those bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.byteLength - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const b = good.slice();
          for (const [at, v] of flips) b[at] = v;
          let decoded: ReturnType<typeof decodeDataset>;
          try {
            decoded = decodeDataset(b);
          } catch (e) {
            expect(e).toBeInstanceOf(DatasetError);
            expect((e as DatasetError).code).toBe('DATASET_MALFORMED');
            return;
          }
          expect(encodeDataset(decoded.meta, decoded.data)).toEqual(b);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads only the header when asked', () => {
    expect(decodeDatasetHeader(good.subarray(0, dataOffset))).toEqual({ meta, dataOffset });
  });
});
