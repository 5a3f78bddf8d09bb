// Importing ONNX made elsewhere: validated by onnxruntime, signature and opset recorded, junk refused.
import { describe, expect, it } from 'vitest';
import { DataType, encodeModel, floatTensor, makeModel, makeNode, makeValueInfo } from '@flotilla/firmware-bundler/onnx';
import { inspectOnnx } from './inspect-onnx.ts';
import { pytorchLikeMlp } from './testing/onnx-fixtures.ts';

describe('inspectOnnx', () => {
  it('describes a PyTorch-style export: signature with a dynamic batch, opset, IR, producer, ops, digest', async () => {
    const bytes = pytorchLikeMlp();
    const info = await inspectOnnx(bytes);
    expect(info.signature).toEqual({
      inputs: [{ name: 'input.1', dtype: 'float32', shape: [null, 12] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: [null, 4] }],
    });
    expect(info).toMatchObject({
      opset: 17,
      irVersion: 8,
      producer: { name: 'pytorch', version: '2.1.0' },
      quantized: false,
      bytes: bytes.length,
    });
    expect(info.ops).toEqual(['Add', 'Gemm', 'MatMul', 'Relu']);
    expect(info.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves out initializers listed as graph inputs (older exporters)', async () => {
    const graph = {
      name: 'g',
      node: [makeNode('MatMul', ['x', 'w'], ['y'])],
      initializer: [floatTensor('w', [2, 2], [1, 0, 0, 1])],
      input: [makeValueInfo('x', DataType.FLOAT, [1, 2]), makeValueInfo('w', DataType.FLOAT, [2, 2])],
      output: [makeValueInfo('y', DataType.FLOAT, [1, 2])],
    };
    const info = await inspectOnnx(encodeModel(makeModel(graph, { opset: 9, irVersion: 3 })));
    expect(info.signature.inputs.map((i) => i.name)).toEqual(['x']);
  });

  it('refuses bytes that are not a model, and models onnxruntime cannot load, with ONNX_INVALID', async () => {
    await expect(inspectOnnx(new TextEncoder().encode('not a model'))).rejects.toMatchObject({ code: 'ONNX_INVALID' });
    const dangling = encodeModel(
      makeModel({
        name: 'g',
        node: [makeNode('Relu', ['missing'], ['y'])],
        input: [makeValueInfo('x', DataType.FLOAT, [1])],
        output: [makeValueInfo('y', DataType.FLOAT, [1])],
      }),
    );
    await expect(inspectOnnx(dangling)).rejects.toMatchObject({ code: 'ONNX_INVALID', message: expect.stringMatching(/onnxruntime/) });
  });
});
