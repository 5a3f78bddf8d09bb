// The soak's model: a seeded 784 → 10 linear layer, enough for agents to load, probe and serve MNIST rows.
import { DataType, encodeModel, floatTensor, makeModel, makeNode, makeValueInfo } from '@flotilla/firmware-bundler/onnx';

/** ONNX bytes of x[N,784] · W + b with weights drawn from `seed` (different seeds: different versions). */
export function mnistLinearOnnx(seed: number): Uint8Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
  return encodeModel(
    makeModel({
      name: 'soak-linear',
      node: [makeNode('MatMul', ['x', 'W'], ['xw']), makeNode('Add', ['xw', 'b'], ['y'])],
      initializer: [
        floatTensor('W', [784, 10], Array.from({ length: 7840 }, rand)),
        floatTensor('b', [10], Array.from({ length: 10 }, rand)),
      ],
      input: [makeValueInfo('x', DataType.FLOAT, ['N', 784])],
      output: [makeValueInfo('y', DataType.FLOAT, ['N', 10])],
    }),
  );
}
