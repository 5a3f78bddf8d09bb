// The ONNX codec reads what the reference protobuf implementation writes and writes it back byte for byte.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from './onnx-codec.ts';
import { OnnxError } from './onnx-error.ts';
import { makeAttribute, makeModel, makeNode, makeValueInfo, float, floats } from './graph-builder.ts';
import { DataType, type ModelProto } from './onnx-types.ts';
import { readTensor } from './tensor-data.ts';

const fixture = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../test/fixtures/onnx/python-model.onnx', import.meta.url))));

describe('decodeModel / encodeModel', () => {
  it('round-trips a model written by the onnx Python package byte for byte', () => {
    const m = decodeModel(fixture);
    expect(encodeModel(m)).toEqual(fixture);
    expect(m.producerName).toBe('py');
    expect(m.opsetImport).toEqual([
      { domain: '', version: 13 },
      { domain: 'x.y', version: 1 },
    ]);
    expect(m.metadataProps).toEqual([{ key: 'k', value: 'v' }]);
    expect(m.graph?.docString).toBe('graph doc');
    expect(m.graph?.node?.[0]).toMatchObject({ name: 'mm', opType: 'MatMul', docString: 'a documented node' });
  });

  it('keeps int64 values beyond 2^53 exact (bigint) and negative values signed', () => {
    const g = decodeModel(fixture).graph!;
    const byName = (n: string) => g.initializer!.find((t) => t.name === n)!;
    expect(byName('i64').int64Data).toEqual([-1, 9223372036854775807n, -9223372036854775808n]);
    expect(readTensor(byName('ends'))).toEqual(BigInt64Array.of(9223372036854775807n));
    expect(readTensor(byName('axes'))).toEqual(BigInt64Array.of(-1n));
    expect(readTensor(byName('i8'))).toEqual(Int8Array.of(-128, 0, 127));
    expect(Array.from(byName('fd').floatData!)).toEqual([1.5, -2]);
    const custom = g.node!.find((n) => n.opType === 'Custom')!;
    expect(custom.domain).toBe('x.y');
    expect(custom.attribute!.find((a) => a.name === 'ints')!.ints).toEqual([1, -2, 9223372036854775807n]);
    expect(custom.attribute!.find((a) => a.name === 'f')!.f).toBe(0.25);
    expect(new TextDecoder().decode(custom.attribute!.find((a) => a.name === 's')!.s)).toBe('abc');
  });

  it('keeps fields it does not know (a newer schema) and writes them back', () => {
    // Field 99 (varint 5) and field 98 (bytes "hi") appended to the top-level message.
    const extra = Uint8Array.of(0x98, 0x06, 0x05, 0x92, 0x06, 0x02, 0x68, 0x69);
    const bytes = new Uint8Array([...fixture, ...extra]);
    const m = decodeModel(bytes);
    expect(m.$unknown).toHaveLength(2);
    expect(encodeModel(m)).toEqual(bytes);
  });

  it('accepts packed encodings of fields onnx.proto declares unpacked (as proto3 writers emit)', () => {
    // ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto.dims (1) packed as [2, 3].
    const tensor = Uint8Array.of(0x0a, 0x02, 0x02, 0x03, 0x10, 0x01);
    const graph = Uint8Array.of(0x2a, tensor.length, ...tensor);
    const model = Uint8Array.of(0x3a, graph.length, ...graph);
    expect(decodeModel(model).graph?.initializer?.[0]).toEqual({ dims: [2, 3], dataType: 1 });
  });

  it('rejects truncated and malformed bytes with ONNX_MALFORMED', () => {
    const cases = [
      fixture.subarray(0, fixture.length - 3),
      Uint8Array.of(0x3a, 0x10, 0x01),
      Uint8Array.of(0x0b),
      Uint8Array.of(0x22, 0x02, 0xff, 0xfe),
    ];
    for (const bytes of cases) {
      expect(() => decodeModel(bytes)).toThrow(OnnxError);
      expect(() => decodeModel(bytes)).toThrow(expect.objectContaining({ code: 'ONNX_MALFORMED' }));
    }
  });

  it('round-trips arbitrary graphs built with the helpers (property)', () => {
    const attr = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
      fc.string(),
      fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 5 }),
      fc.float({ noNaN: true }).map((f) => float(Math.fround(f))),
      fc.array(fc.float({ noNaN: true }).map(Math.fround), { maxLength: 4 }).map(floats),
    );
    const node = fc.record({
      op: fc.constantFrom('Relu', 'Conv', 'Custom'),
      inputs: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
      attrs: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), attr, { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(fc.array(node, { maxLength: 6 }), fc.array(fc.oneof(fc.nat(1000), fc.constant('N')), { maxLength: 4 }), (nodes, dims) => {
        const model: ModelProto = makeModel({
          name: 'p',
          node: nodes.map((n, i) => makeNode(n.op, n.inputs, [`o${i}`], n.attrs)),
          input: [makeValueInfo('x', DataType.FLOAT, dims)],
        });
        const bytes = encodeModel(model);
        const back = decodeModel(bytes);
        expect(encodeModel(back)).toEqual(bytes);
        const names = (m: ModelProto) => (m.graph?.node ?? []).map((n) => (n.attribute ?? []).map((a) => a.name));
        expect(names(back)).toEqual(names(model));
      }),
      { numRuns: 200 },
    );
  });

  it('sets the attribute type discriminator for every builder value', () => {
    expect(makeAttribute('a', 3).type).toBe(2);
    expect(makeAttribute('a', float(0.5)).type).toBe(1);
    expect(makeAttribute('a', [1, 2]).type).toBe(7);
    expect(makeAttribute('a', floats([0.5])).type).toBe(6);
    expect(makeAttribute('a', 'x').type).toBe(3);
    expect(makeAttribute('a', ['x']).type).toBe(8);
  });
});
