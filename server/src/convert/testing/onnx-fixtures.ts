// Test helper: small ONNX models built by hand, shaped like models exported by other tools (PyTorch, old opsets).
import {
  DataType,
  encodeModel,
  float,
  floatTensor,
  makeModel,
  makeNode,
  makeValueInfo,
  type NodeProto,
  type TensorProto,
} from '@flotilla/firmware-bundler/onnx';

/** Deterministic pseudo-random normal values (Box-Muller over an LCG). */
export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * scale;
  return out;
}

/**
 * An MLP as torch.onnx.export writes it: opset 17, IR 8, Gemm with transB=1 and [out, in] weights,
 * a MatMul + Add layer, `batch_size` as the symbolic batch, PyTorch-style tensor names.
 */
export function pytorchLikeMlp(): Uint8Array {
  const init: TensorProto[] = [
    floatTensor('fc1.weight', [16, 12], randomNormal(16 * 12, 1, 0.4)),
    floatTensor('fc1.bias', [16], randomNormal(16, 2, 0.1)),
    floatTensor('onnx::MatMul_20', [16, 8], randomNormal(16 * 8, 3, 0.4)),
    floatTensor('fc2.bias', [8], randomNormal(8, 4, 0.1)),
    floatTensor('fc3.weight', [4, 8], randomNormal(4 * 8, 5, 0.4)),
    floatTensor('fc3.bias', [4], randomNormal(4, 6, 0.1)),
  ];
  const nodes: NodeProto[] = [
    makeNode(
      'Gemm',
      ['input.1', 'fc1.weight', 'fc1.bias'],
      ['/fc1/Gemm_output_0'],
      { alpha: float(1), beta: float(1), transB: 1 },
      '/fc1/Gemm',
    ),
    makeNode('Relu', ['/fc1/Gemm_output_0'], ['/act/Relu_output_0'], {}, '/act/Relu'),
    makeNode('MatMul', ['/act/Relu_output_0', 'onnx::MatMul_20'], ['/fc2/MatMul_output_0'], {}, '/fc2/MatMul'),
    makeNode('Add', ['fc2.bias', '/fc2/MatMul_output_0'], ['/fc2/Add_output_0'], {}, '/fc2/Add'),
    makeNode('Relu', ['/fc2/Add_output_0'], ['/act_1/Relu_output_0'], {}, '/act_1/Relu'),
    makeNode(
      'Gemm',
      ['/act_1/Relu_output_0', 'fc3.weight', 'fc3.bias'],
      ['logits'],
      { alpha: float(1), beta: float(1), transB: 1 },
      '/fc3/Gemm',
    ),
  ];
  const graph = {
    name: 'main_graph',
    node: nodes,
    initializer: init,
    input: [makeValueInfo('input.1', DataType.FLOAT, ['batch_size', 12])],
    output: [makeValueInfo('logits', DataType.FLOAT, ['batch_size', 4])],
  };
  return encodeModel(makeModel(graph, { opset: 17, irVersion: 8, producerName: 'pytorch', producerVersion: '2.1.0' }));
}

/** Wraps nodes over input `x` [N, ...inputDims] and output `y` into a model of the given opset. */
export function modelOf(
  opset: number,
  nodes: NodeProto[],
  initializer: TensorProto[],
  inputDims: number[],
  outputDims: number[] | undefined,
  irVersion = 6,
): Uint8Array {
  const graph = {
    name: 'g',
    node: nodes,
    initializer,
    input: [makeValueInfo('x', DataType.FLOAT, ['N', ...inputDims])],
    output: [makeValueInfo('y', DataType.FLOAT, outputDims ? ['N', ...outputDims] : undefined)],
  };
  return encodeModel(makeModel(graph, { opset, irVersion }));
}
