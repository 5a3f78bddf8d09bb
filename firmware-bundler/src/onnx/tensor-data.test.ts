// Tensor contents in and out of TensorProto: raw_data, typed *_data fields, and the refusals.
import { describe, expect, it } from 'vitest';
import { DataType } from './onnx-types.ts';
import { OnnxError } from './onnx-error.ts';
import { elementCount, floatTensor, int64Tensor, makeTensor, readTensor, readTensorAsFloat32 } from './tensor-data.ts';

describe('tensor data', () => {
  it('round-trips every typed array through raw_data', () => {
    const arrays = [
      Float32Array.of(1.5, -2),
      Float64Array.of(3.25),
      Int8Array.of(-128, 127),
      Uint8Array.of(0, 255),
      Int16Array.of(-3),
      Uint16Array.of(65535),
      Int32Array.of(-7, 2 ** 30),
      BigInt64Array.of(-1n, 2n ** 62n),
    ];
    for (const a of arrays) {
      const t = makeTensor('t', [a.length], a);
      expect(readTensor(t)).toEqual(a);
    }
    expect(makeTensor('b', [2], Uint8Array.of(1, 0), DataType.BOOL).dataType).toBe(DataType.BOOL);
    expect(readTensor(int64Tensor('s', [2], [0, -1]))).toEqual(BigInt64Array.of(0n, -1n));
  });

  it('reads the typed fields (float_data, int32_data for int8, int64_data) and float16 as float32', () => {
    expect(readTensor({ dims: [2], dataType: DataType.FLOAT, floatData: [1, 2] })).toEqual(Float32Array.of(1, 2));
    expect(readTensor({ dims: [2], dataType: DataType.INT8, int32Data: [-5, 5] })).toEqual(Int8Array.of(-5, 5));
    expect(readTensor({ dims: [1], dataType: DataType.INT64, int64Data: [9007199254740993n] })).toEqual(
      BigInt64Array.of(9007199254740993n),
    );
    // 0x3c00 = 1.0, 0xc000 = -2.0 in IEEE half precision.
    expect(readTensorAsFloat32({ dims: [2], dataType: DataType.FLOAT16, int32Data: [0x3c00, 0xc000] })).toEqual(Float32Array.of(1, -2));
    expect(elementCount([])).toBe(1);
    expect(readTensor(floatTensor('scalar', [], [4]))).toEqual(Float32Array.of(4));
  });

  it('refuses external data, unsupported types and sizes that do not match the dims', () => {
    const external = {
      name: 'e',
      dims: [1],
      dataType: DataType.FLOAT,
      dataLocation: 1,
      externalData: [{ key: 'location', value: 'w.bin' }],
    };
    expect(() => readTensor(external)).toThrow(expect.objectContaining({ code: 'ONNX_UNSUPPORTED' }));
    expect(() => readTensor({ name: 's', dims: [1], dataType: DataType.STRING })).toThrow(OnnxError);
    expect(() => readTensor({ name: 'r', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) })).toThrow(
      expect.objectContaining({ code: 'ONNX_MALFORMED' }),
    );
    expect(() => makeTensor('m', [3], Float32Array.of(1))).toThrow(OnnxError);
  });
});
